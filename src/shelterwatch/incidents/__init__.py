"""Locked-door cases: opened, joined ("me too") and resolved from observations."""
