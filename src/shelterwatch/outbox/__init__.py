"""A durable delivery queue: pending → claimed → sent | failed, with back-off and dead letters."""
