"""The one place the shell reads the clock; the domain receives `now` as a parameter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from shelterwatch.vocabulary import as_utc as as_utc  # the one definition, re-exported

# Zero except while a replay of a past night runs in this process (`shelterwatch demo`).
_replay_skew = timedelta(0)


def utcnow() -> datetime:
    """Aware UTC now, for callers at the edge (requests, workers, CLI)."""
    return datetime.now(UTC) + _replay_skew


def set_replay_time(at: datetime) -> None:
    """Make this process's clock read `at` now and run on from there (replays only).

    A replay jumps over the minutes in which nobody acts, so a night plays in seconds while
    every service still sees one consistent, monotonic clock.
    """
    global _replay_skew
    _replay_skew = at - datetime.now(UTC)


def local_iso(value: datetime, zone: str) -> str:
    """A stored UTC time as people there read it: ISO 8601 with the zone's offset that day."""
    return as_utc(value).astimezone(ZoneInfo(zone)).isoformat(timespec="seconds")
