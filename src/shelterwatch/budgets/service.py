"""Shared rate limits and spread limits, in the caller's transaction.

Per-process counters let N processes allow N times as much. Kept in the database, a limit holds
however many processes serve: a writer reads and moves a key's row inside its own transaction,
under the lock every writer of reports already takes (the log's), so two processes cannot both
spend the last unit. The work per check is one or two primary-key rows, whatever the crowd.
"""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from shelterwatch.budgets.models import RateCell, SourceMark
from shelterwatch.clock import as_utc

PRUNE_EVERY_S = 60.0
SLACK_S = 1e-6
_next_prune: dict[str, float] = {}


def hit(session: Session, *, scope: str, key: str, limit: int, window_s: float,
        now: datetime) -> float | None:
    """Count one hit of `limit` per `window_s` for `key`; None if allowed, else seconds to wait.

    A generic cell-rate algorithm: bursts up to the limit, then one more every window/limit.
    """
    t = now.timestamp()
    interval = window_s / max(1, limit)
    tolerance = window_s - interval
    _prune(session, scope, t)
    _serialise(session, scope, key)
    cell = session.get(RateCell, (scope, key), with_for_update=True)
    tat = max(cell.tat if cell is not None else t, t)
    if tat - t > tolerance:
        return tat - t - tolerance
    if cell is None:
        session.add(RateCell(scope=scope, key=key, tat=tat + interval))
    else:
        cell.tat = tat + interval
    session.flush()
    return None


def take(session: Session, *, scope: str, key: str, wanted: int, rate_per_s: float,
         burst: float, now: datetime) -> int:
    """Take up to `wanted` units of a deployment-wide `rate_per_s` (bursts of `burst`);
    returns how many were granted, 0 to `wanted`.

    The same cell-rate algorithm as `hit`, many units at once: every worker's sends to one
    provider draw on one allowance, so N workers together keep the provider's published limit
    instead of N times it. One row per key, moved under its lock.
    """
    if wanted <= 0:
        return 0
    t = now.timestamp()
    interval = 1.0 / rate_per_s
    tolerance = (max(1.0, burst) - 1.0) * interval
    _serialise(session, scope, key)
    cell = session.get(RateCell, (scope, key), with_for_update=True)
    tat = max(cell.tat if cell is not None else t, t)
    # epoch seconds as floats carry ~0.2 µs of rounding: a microsecond's slack absorbs it
    ahead = tat - t - SLACK_S
    room = int((tolerance - ahead) / interval) + 1 if ahead <= tolerance else 0
    granted = min(wanted, room)
    if granted:
        if cell is None:
            session.add(RateCell(scope=scope, key=key, tat=tat + granted * interval))
        else:
            cell.tat = tat + granted * interval
        session.flush()
    return granted


def spread(session: Session, *, scope: str, key: str, item: str, limit: int, window_s: float,
           now: datetime) -> int | None:
    """Mark that `key` touched `item`; None if allowed, else the `limit` it would exceed.

    Allowed when the item is one the key already touched within the window, or when it has
    touched fewer than `limit` different items in it.
    """
    since = now - timedelta(seconds=window_s)
    _serialise(session, scope, key)
    mark = session.get(SourceMark, (scope, key, item))
    if mark is None or as_utc(mark.at) < since:
        touched = session.execute(
            select(func.count()).select_from(SourceMark).where(
                SourceMark.scope == scope, SourceMark.key == key, SourceMark.at >= since,
                SourceMark.item != item)).scalar_one()
        if touched >= limit:
            return limit
    if mark is None:
        session.add(SourceMark(scope=scope, key=key, item=item, at=now))
    else:
        mark.at = now
    session.flush()
    return None


def spent(session: Session, *, scope: str, key: str, item: str = "") -> bool:
    """Whether a once-only item (a solved challenge) was already used."""
    return session.get(SourceMark, (scope, key, item)) is not None


def spend(session: Session, *, scope: str, key: str, now: datetime, item: str = "") -> None:
    """Mark a once-only item used."""
    session.add(SourceMark(scope=scope, key=key, item=item, at=now))
    session.flush()


def _serialise(session: Session, scope: str, key: str) -> None:
    """Make writers of the same key take turns until they commit.

    SQLite's write transactions already do (one writer at a time). On PostgreSQL a row lock
    cannot cover a row that does not exist yet, so a transaction-scoped advisory lock on the key
    does: two processes never both spend the last unit, nor both insert the first row.
    """
    if session.get_bind().dialect.name == "postgresql":
        lock_id = zlib.crc32(f"budget\x00{scope}\x00{key}".encode()) - 2**31
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})


def _prune(session: Session, scope: str, t: float) -> None:
    """Drop cells that have drained, at most once a minute per process and scope."""
    if _next_prune.get(scope, 0.0) > t:
        return
    _next_prune[scope] = t + PRUNE_EVERY_S
    session.execute(delete(RateCell).where(RateCell.scope == scope, RateCell.tat < t))


def prune_marks(session: Session, *, older_than: datetime) -> int:
    """Drop marks older than any window uses (the worker calls it)."""
    result = session.execute(delete(SourceMark).where(SourceMark.at < older_than))
    return int(getattr(result, "rowcount", 0) or 0)
