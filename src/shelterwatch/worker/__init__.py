"""The escalation worker process: follows the log, runs timers, sends the outbox, hears doors."""
