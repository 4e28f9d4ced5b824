"""Checks by keyholders, patrols and auditors: authoritative observations."""
