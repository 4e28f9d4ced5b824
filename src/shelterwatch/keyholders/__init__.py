"""Owners (balance-keepers) and keyholders of shelters, with their private contacts."""
