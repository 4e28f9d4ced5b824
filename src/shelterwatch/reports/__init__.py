"""Residents' reports: anonymous, idempotent, rate-limited, answered with a tracking id."""
