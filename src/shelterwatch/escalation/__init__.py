"""The escalation ladder in motion: durable timers, due steps, check-in requests."""
