"""Residents where they already are: a Telegram bot, SMS for push-button phones, web push."""
