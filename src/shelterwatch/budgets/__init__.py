"""Rate limits and budgets kept in the database, so every process on it shares them."""
