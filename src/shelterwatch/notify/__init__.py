"""Notification channels (webhook, e-mail, SMS, Telegram) as plug-ins named in one registry."""
