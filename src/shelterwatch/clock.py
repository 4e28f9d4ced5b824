"""The one place the shell reads the clock; the domain receives `now` as a parameter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from shelterwatch.vocabulary import as_utc as as_utc  # the one definition, re-exported

# Zero except while a replay of a past night runs in this process (`shelterwatch demo`).
_replay_skew = timedelta(0)
# 1 except in a simulated night (`shelterwatch simulate`): then every process of the night runs
# `_speed` times faster than real time from the same real instant `_anchor`, so a server, a
# worker and the simulation's actors read one clock without talking to each other.
_speed = 1.0
_anchor: datetime | None = None


def utcnow() -> datetime:
    """Aware UTC now, for callers at the edge (requests, workers, CLI)."""
    return _compressed(datetime.now(UTC)) + _replay_skew


def _compressed(real: datetime) -> datetime:
    if _anchor is None:
        return real
    return _anchor + (real - _anchor) * _speed


def compress(speed: float, anchor: datetime | None) -> None:
    """Run this process's clock `speed` times faster than real time from the real instant
    `anchor` (the moment both clocks agree); `speed` 1 or no anchor runs in real time.

    Only for simulations: timers, back-offs and fading then play out in seconds, and every
    process given the same speed and anchor reads the same time.
    """
    global _speed, _anchor
    if speed <= 0:
        raise ValueError(f"clock speed must be positive, not {speed}")
    _speed = speed
    _anchor = as_utc(anchor) if anchor is not None and speed != 1 else None


def real_seconds(simulated_s: float) -> float:
    """How long a span of this process's clock lasts in real time (to sleep for it)."""
    return simulated_s / _speed if _anchor is not None else simulated_s


def set_replay_time(at: datetime) -> None:
    """Make this process's clock read `at` now and run on from there (replays only).

    A replay jumps over the minutes in which nobody acts, so a night plays in seconds while
    every service still sees one consistent, monotonic clock.
    """
    global _replay_skew
    _replay_skew = at - _compressed(datetime.now(UTC))


def local_iso(value: datetime, zone: str) -> str:
    """A stored UTC time as people there read it: ISO 8601 with the zone's offset that day."""
    return as_utc(value).astimezone(ZoneInfo(zone)).isoformat(timespec="seconds")
