"""The one list of notification channels: name → dotted path of the class (pygeoapi style),
and the send limits each channel's provider publishes."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable

from shelterwatch.config import Settings
from shelterwatch.notify.base import Channel
from shelterwatch.outbox.throttle import ChannelLimits, Limit

logger = logging.getLogger(__name__)

CHANNELS: dict[str, str] = {
    "webhook": "shelterwatch.notify.webhook:WebhookChannel",
    "email": "shelterwatch.notify.email:EmailChannel",
    "sms": "shelterwatch.notify.sms:SmsChannel",
    "telegram": "shelterwatch.notify.telegram:TelegramChannel",
    # Door controllers take commands through the same durable queue as people take messages.
    "door": "shelterwatch.doors.mqtt:DoorCommandChannel",
    "push": "shelterwatch.notify.push:PushChannel",
}


def limits(settings: Settings) -> dict[str, ChannelLimits]:
    """Each channel's published send limits, as data: the outbox holds back what exceeds them."""
    return {
        "telegram": ChannelLimits(
            Limit(settings.telegram_rate_per_s, burst=settings.telegram_rate_per_s),
            Limit(settings.telegram_chat_rate_per_s, burst=settings.telegram_chat_burst)),
        "sms": ChannelLimits(Limit(settings.sms_rate_per_s, burst=settings.sms_rate_per_s)),
        "push": ChannelLimits(Limit(settings.push_rate_per_s, burst=settings.push_rate_per_s)),
    }


def load(name: str, settings: Settings) -> Channel:
    """Instantiate the channel registered under `name` with the process settings."""
    try:
        dotted = CHANNELS[name]
    except KeyError:
        raise ValueError(f"unknown notification channel {name!r} "
                         f"(one of {', '.join(sorted(CHANNELS))})") from None
    module_name, _, class_name = dotted.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    channel: Channel = cls(settings)
    return channel


def load_enabled(settings: Settings, names: Iterable[str] | None = None) -> dict[str, Channel]:
    """Every channel switched on in settings (`SHELTERWATCH_NOTIFY_CHANNELS`), by name."""
    wanted = names if names is not None else settings.notify_channels
    channels: dict[str, Channel] = {}
    for name in wanted:
        try:
            channels[name] = load(name, settings)
        except ValueError as exc:  # not configured here: its deliveries wait, dead-letter at last
            logger.warning("channel %s is off: %s", name, exc)
    return channels
