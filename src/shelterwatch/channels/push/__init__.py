"""Web push for the resident page: alerts where you are, and "go to X instead" when the shelter
you were shown is reported locked. No account; subscriptions are private and expire."""
