"""The residents' Telegram bot: nearest shelters for a shared location, one-tap reports, news."""
