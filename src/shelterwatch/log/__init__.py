"""The append-only, hash-chained fact log (DESIGN §3.2)."""
