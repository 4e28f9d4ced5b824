"""Everything that leaves by a channel: notifications and door controllers through the outbox,
and the residents' channels (the Telegram bot, inbound SMS, web push) with their providers'
limits."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode

from shelterwatch.config_syntax import CHANNEL_NAMES, ChannelName, comma_list


class OutboxSettings(BaseSettings):
    # Notifications and door controllers
    mqtt_url: str = ""
    smtp_url: str = ""
    smtp_from: str = "shelterwatch@example.invalid"
    sms_gateway_url: str = ""
    telegram_api_url: str = "https://api.telegram.org"
    telegram_bot_token: str = ""
    sms_gateway_token: str = ""
    webhook_secret: str = ""  # signs webhook bodies; defaults to secret_key
    notify_channels: Annotated[tuple[ChannelName, ...], NoDecode] = CHANNEL_NAMES
    notify_timeout_s: float = 10.0
    outbox_max_attempts: int = 6
    outbox_backoff_s: float = 5.0  # doubles each attempt
    outbox_lease_s: float = 60.0  # a claim older than this is taken over by another worker
    # Sends side by side, one round of OUTBOX_ROUND settled together (outbox.batch); 1 keeps
    # one message per transaction, the strictest crash behaviour. 16 by default: an alert's
    # ten thousand check-ins one at a time take minutes (bench/alert_surge.py).
    outbox_senders: int = Field(default=16, ge=1, le=256)
    outbox_round: int = Field(default=200, ge=1, le=5000)
    # The door controllers' lane: unlocks never wait behind a round of webhooks.
    outbox_door_senders: int = Field(default=32, ge=1, le=256)

    # Residents' channels (issue 16): the Telegram bot, inbound SMS, web push, and the limits
    # their providers publish (Telegram: ~30 messages/s per bot, ~1/s per chat with short bursts).
    telegram_webhook_secret: str = ""  # X-Telegram-Bot-Api-Secret-Token; empty = webhook refused
    telegram_rate_per_s: float = 30.0
    telegram_chat_rate_per_s: float = 1.0
    telegram_chat_burst: int = 3
    telegram_bot_username: str = ""  # for the door sign's QR code (t.me/<name>?start=s<id>)
    sms_inbound_secret: str = ""  # the gateway's X-Gateway-Secret; empty = inbound refused
    sms_rate_per_s: float = 10.0  # the gateway's contracted throughput
    sms_inbound_number: str = ""  # the number residents text, printed on door signs
    push_vapid_private_key: str = ""  # PEM, or the raw key in base64url; empty = push off
    push_vapid_subject: str = "mailto:civil-protection@example.invalid"
    push_rate_per_s: float = 200.0
    push_subscription_days: int = 30  # a subscription not renewed by the page expires
    push_shown_window_s: int = 3600  # shelters shown this recently get "reported locked" news
    # Hosts of the push services browsers use; a ".suffix" allows its subdomains.
    push_endpoint_hosts: Annotated[tuple[str, ...], NoDecode] = (
        "fcm.googleapis.com", "updates.push.services.mozilla.com", ".notify.windows.com",
        ".push.apple.com")

    @field_validator("notify_channels", mode="before")
    @classmethod
    def _channel_list(cls, value: Any) -> Any:
        return comma_list(value)

    @field_validator("push_endpoint_hosts", mode="before")
    @classmethod
    def _hosts(cls, value: Any) -> Any:
        return tuple(h.lower() for h in comma_list(value))
