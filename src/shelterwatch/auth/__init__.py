"""Bearer tokens and roles (DESIGN §1)."""
