"""The one list of notification channels, as data: how each is loaded and how hard it may be
pushed (pygeoapi style: name → dotted path, no entry-point magic).

The limits live here, beside the channel, because they are facts about the provider (Telegram's
Bot API takes about 30 messages a second, an SMS gateway's contract names its rate, an SMTP relay
refuses many parallel sessions), not about the code that sends. The worker gives each channel its
own lane: `concurrency` sends in flight at once and at most `rate_per_s` sends a second (a token
bucket `burst` deep), so one slow or throttled provider never holds back another.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from shelterwatch.config import Settings
from shelterwatch.notify.base import Channel

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ChannelSpec:
    """How one channel is loaded and the provider's limits the worker keeps to."""

    path: str  # "package.module:Class", instantiated with the process settings
    concurrency: int = 8  # sends in flight at once from one worker process
    rate_per_s: float | None = None  # the provider's limit; None: as fast as it answers
    burst: int = 1  # sends allowed at once after a quiet spell (token bucket depth)


CHANNELS: dict[str, ChannelSpec] = {
    "webhook": ChannelSpec("shelterwatch.notify.webhook:WebhookChannel", concurrency=32),
    "email": ChannelSpec("shelterwatch.notify.email:EmailChannel", concurrency=4),
    "sms": ChannelSpec("shelterwatch.notify.sms:SmsChannel", concurrency=16, rate_per_s=100.0,
                       burst=20),
    # The Bot API allows about 30 messages a second across all chats.
    "telegram": ChannelSpec("shelterwatch.notify.telegram:TelegramChannel", concurrency=16,
                            rate_per_s=30.0, burst=30),
    # Door controllers take commands through the same durable queue as people take messages.
    "door": ChannelSpec("shelterwatch.doors.mqtt:DoorCommandChannel", concurrency=32),
}


def spec(name: str) -> ChannelSpec:
    """The registered spec of `name`; a name nobody registered gets the defaults."""
    return CHANNELS.get(name) or ChannelSpec(path="")


def load(name: str, settings: Settings) -> Channel:
    """Instantiate the channel registered under `name` with the process settings."""
    try:
        dotted = CHANNELS[name].path
    except KeyError:
        raise ValueError(f"unknown notification channel {name!r} "
                         f"(one of {', '.join(sorted(CHANNELS))})") from None
    module_name, _, class_name = dotted.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    channel: Channel = cls(settings)
    return channel


def load_enabled(settings: Settings, names: Iterable[str] | None = None) -> dict[str, Channel]:
    """Every channel switched on in settings (`SHELTERWATCH_NOTIFY_CHANNELS`), by name."""
    wanted = names if names is not None else [
        n.strip() for n in settings.notify_channels.split(",") if n.strip()
    ]
    channels: dict[str, Channel] = {}
    for name in wanted:
        try:
            channels[name] = load(name, settings)
        except ValueError as exc:  # not configured here: its deliveries wait, dead-letter at last
            logger.warning("channel %s is off: %s", name, exc)
    return channels
