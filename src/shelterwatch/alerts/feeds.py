"""The health of each alert feed, so a silent feed is shown as stale instead of trusted.

A poll that answers well (even "nothing changed", HTTP 304) refreshes `last_ok_at`; a failure
records its reason. A feed's going bad and coming back are facts (`feed.failed`,
`feed.recovered`); the routine "still fine" is not, so the log does not fill with heartbeats.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shelterwatch.alerts.models import FeedHealth
from shelterwatch.clock import as_utc
from shelterwatch.log import service as log
from shelterwatch.rules import alert_feed
from shelterwatch.vocabulary import FactKind


@dataclass(frozen=True, slots=True)
class FeedState:
    source: str
    last_ok_at: datetime | None
    last_error: str | None
    failures: int
    stale: bool

    def as_public(self) -> dict[str, object]:
        return {"source": self.source, "stale": self.stale, "failures": self.failures,
                "last_ok_at": self.last_ok_at.isoformat() if self.last_ok_at else None,
                "last_error": self.last_error}


def _row(session: Session, source: str) -> FeedHealth:
    row = session.get(FeedHealth, source)
    if row is None:
        row = FeedHealth(source=source, failures=0)
        session.add(row)
    return row


def cursor(session: Session, source: str) -> str | None:
    """The provider cursor remembered from the last good poll (Last-Modified, action index)."""
    row = session.get(FeedHealth, source)
    return row.cursor if row else None


def record_ok(session: Session, *, source: str, now: datetime,
              cursor_value: str | None = None) -> None:
    """The feed answered well at `now`."""
    row = _row(session, source)
    if row.failures:
        log.append(session, kind=FactKind.FEED_RECOVERED, actor=f"feed:{source}",
                   payload={"source": source, "after_failures": row.failures}, now=now)
    row.last_attempt_at = as_utc(now)
    row.last_ok_at = as_utc(now)
    row.last_error = None
    row.failures = 0
    if cursor_value is not None:
        row.cursor = cursor_value
    session.flush()


def record_failure(session: Session, *, source: str, now: datetime, reason: str) -> int:
    """The feed failed at `now` for `reason`; returns how many failures in a row."""
    row = _row(session, source)
    if not row.failures:
        log.append(session, kind=FactKind.FEED_FAILED, actor=f"feed:{source}",
                   payload={"source": source, "reason": reason[:500]}, now=now)
    row.last_attempt_at = as_utc(now)
    row.last_error = reason[:2000]
    row.failures = (row.failures or 0) + 1
    session.flush()
    return row.failures


def states(session: Session, *, now: datetime, stale_after_s: float) -> list[FeedState]:
    """Every feed that has ever been polled, with its stale verdict at `now`."""
    out = []
    for row in session.execute(select(FeedHealth).order_by(FeedHealth.source)).scalars():
        ok = as_utc(row.last_ok_at) if row.last_ok_at else None
        out.append(FeedState(source=row.source, last_ok_at=ok, last_error=row.last_error,
                             failures=row.failures or 0,
                             stale=alert_feed.is_stale(ok, as_utc(now), stale_after_s)))
    return out
