"""The shelter registry (DESIGN §2 Shelter)."""
