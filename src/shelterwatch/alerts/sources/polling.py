"""The polling loop every feed shares: fetch, apply in one transaction, back off, go stale.

A fetch that fails (network, HTTP error, malformed payload) is logged with its reason and
recorded on the feed's health row; the loop carries on. HTTP 429 doubles the wait each time, up
to `MAX_BACKOFF_S`. Nothing is applied from a payload that did not parse whole, because a partial
list of active alerts would end alerts that are still on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select

from shelterwatch import db
from shelterwatch.alerts import feeds, service
from shelterwatch.areas.models import Area
from shelterwatch.clock import utcnow
from shelterwatch.config import Settings
from shelterwatch.rules.alert_feed import FeedAlert

logger = logging.getLogger(__name__)
MAX_BACKOFF_S = 300.0


class FeedError(Exception):
    """The feed answered with something we cannot use; `reason` says what."""


class RateLimited(FeedError):
    """HTTP 429: the provider wants us to slow down."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What one poll learned: the full list of active alerts, or None when nothing changed."""

    alerts: Sequence[FeedAlert] | None
    cursor: str | None = None


class Poller(Protocol):
    source: str

    def fetch(self, known_areas: set[str], cursor: str | None) -> Snapshot: ...


@dataclass(frozen=True, slots=True)
class PollOutcome:
    ok: bool
    started: int = 0
    ended: int = 0
    reason: str = ""
    rate_limited: bool = False


def poll_once(poller: Poller, settings: Settings, *, now: datetime | None = None) -> PollOutcome:
    """One fetch-and-apply; never raises for feed trouble, only reports it."""
    at = now or utcnow()
    with db.transaction(settings.database_url) as session:
        known = set(session.execute(select(Area.id)).scalars())
        cursor = feeds.cursor(session, poller.source)
    try:
        snap = poller.fetch(known, cursor)
    except FeedError as exc:
        reason = f"{type(exc).__name__}: {exc}"
        logger.warning("%s poll failed: %s", poller.source, reason)
        with db.transaction(settings.database_url) as session:
            feeds.record_failure(session, source=poller.source, now=at, reason=reason)
        return PollOutcome(ok=False, reason=reason, rate_limited=isinstance(exc, RateLimited))
    with db.transaction(settings.database_url) as session:
        started = ended = 0
        if snap.alerts is not None:
            diff = service.sync(session, source=poller.source, snapshot=snap.alerts,
                                actor=f"feed:{poller.source}", now=at)
            started, ended = len(diff.starts), len(diff.ends)
        feeds.record_ok(session, source=poller.source, now=at, cursor_value=snap.cursor)
    if started or ended:
        logger.info("%s: %d started, %d ended", poller.source, started, ended)
    return PollOutcome(ok=True, started=started, ended=ended)


def next_wait(outcome: PollOutcome, interval_s: float, current_backoff_s: float) -> float:
    """Seconds until the next poll: the interval, or a doubling back-off after a 429."""
    if outcome.rate_limited:
        return min(MAX_BACKOFF_S, max(interval_s, current_backoff_s) * 2)
    return interval_s


def run(poller: Poller, settings: Settings, *, once: bool,
        sleep: Callable[[float], None] = time.sleep) -> PollOutcome:
    """Poll until interrupted (or once); returns the last outcome."""
    wait = settings.poll_interval_s
    while True:
        outcome = poll_once(poller, settings)
        if once:
            return outcome
        wait = next_wait(outcome, settings.poll_interval_s, wait)
        sleep(wait)
