"""Issued device ids: a witness that costs something to multiply."""
