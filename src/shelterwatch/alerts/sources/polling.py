"""What every polled feed shares: the snapshot, its errors, and applying it to the alert state.

The loop that fetches, owns the transactions and sleeps is the process's
(`shelterwatch.worker.feeds`); these functions take the caller's session. A fetch that fails
(network, HTTP error, malformed payload) is logged with its reason and recorded on the feed's
health row; the loop carries on. HTTP 429 doubles the wait each time, up to `MAX_BACKOFF_S`.
Nothing is applied from a payload that did not parse whole, because a partial list of active
alerts would end alerts that are still on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from shelterwatch.alerts import feeds, service
from shelterwatch.areas.models import Area
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


def known_state(session: Session, source: str) -> tuple[set[str], str | None]:
    """What a poll needs before it fetches: the areas we know and the feed's cursor."""
    return set(session.execute(select(Area.id)).scalars()), feeds.cursor(session, source)


def failed(session: Session, *, source: str, error: FeedError, now: datetime) -> PollOutcome:
    """Record a failed fetch on the feed's health row; the loop carries on."""
    reason = f"{type(error).__name__}: {error}"
    logger.warning("%s poll failed: %s", source, reason)
    feeds.record_failure(session, source=source, now=now, reason=reason)
    return PollOutcome(ok=False, reason=reason, rate_limited=isinstance(error, RateLimited))


def apply(session: Session, *, source: str, snapshot: Snapshot, now: datetime) -> PollOutcome:
    """Apply one whole snapshot of the feed (None: nothing changed) and note the feed healthy."""
    started = ended = 0
    if snapshot.alerts is not None:
        diff = service.sync(session, source=source, snapshot=snapshot.alerts,
                            actor=f"feed:{source}", now=now)
        started, ended = len(diff.starts), len(diff.ends)
    feeds.record_ok(session, source=source, now=now, cursor_value=snapshot.cursor)
    if started or ended:
        logger.info("%s: %d started, %d ended", source, started, ended)
    return PollOutcome(ok=True, started=started, ended=ended)


def next_wait(outcome: PollOutcome, interval_s: float, current_backoff_s: float) -> float:
    """Seconds until the next poll: the interval, or a doubling back-off after a 429."""
    if outcome.rate_limited:
        return min(MAX_BACKOFF_S, max(interval_s, current_backoff_s) * 2)
    return interval_s
