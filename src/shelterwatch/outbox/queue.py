"""A work table's queue: claiming due rows so that two workers never take the same row at once,
and the one loop that drains it (claim → handle → settle), for deliveries and timers alike.

PostgreSQL: `SELECT … FOR UPDATE SKIP LOCKED` picks rows no other worker holds. SQLite: the
transaction already holds the write lock (BEGIN IMMEDIATE), and `UPDATE … WHERE state='pending'`
only takes rows still pending. A claim older than the lease is taken over, so a worker that died
between claiming and finishing loses nothing.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from shelterwatch.db import transaction

logger = logging.getLogger(__name__)
Row = TypeVar("Row")
Claimed = TypeVar("Claimed")


class QueueState(StrEnum):
    """Where a queued row (delivery or timer) stands: pending → claimed → sent | failed | done."""

    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"  # a delivery went out
    FAILED = "failed"  # a delivery gave up (dead-lettered)
    DONE = "done"  # a timer has nothing left to wait for


PENDING = QueueState.PENDING
CLAIMED = QueueState.CLAIMED


def _claimable(table: Any, due: Any, now: datetime, lease_s: float, where: Any) -> Any:
    stale = now - timedelta(seconds=lease_s)
    claimable = or_(
        and_(table.state == PENDING, due <= now),
        and_(table.state == CLAIMED, table.claimed_at < stale),
    )
    return claimable if where is None else and_(claimable, where)


def any_due(session: Session, model: type[Any], *, due_column: str, now: datetime,
            lease_s: float, where: Any = None) -> bool:
    """Whether `claim_due` would find anything: a read, so an idle loop asks without taking
    the write lock (on SQLite, every claim is a write transaction)."""
    table: Any = model
    found = session.execute(select(table.id).where(
        _claimable(table, getattr(table, due_column), now, lease_s, where)).limit(1)).first()
    return found is not None


def claim_due(session: Session, model: type[Row], *, due_column: str, now: datetime,
              lease_s: float, limit: int = 20, first: str | None = None,
              ahead: Any = None, where: Any = None) -> list[Row]:
    """Claim up to `limit` rows due at `now`; returns them with a fresh `claim_token`.

    `first` names an integer column whose highest values are claimed first (a priority);
    `ahead` is an expression whose lowest values go before even that (timers: alert starts);
    `where` narrows the claim (a lane of its own: door commands)."""
    table: Any = model
    due = getattr(table, due_column)
    claimable = _claimable(table, due, now, lease_s, where)
    order = (([ahead] if ahead is not None else [])
             + ([getattr(table, first).desc()] if first else []) + [due, table.id])
    query = select(table.id).where(claimable).order_by(*order).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(session.execute(query).scalars())
    if not ids:
        return []
    token = uuid.uuid4().hex
    session.execute(
        update(table).where(table.id.in_(ids), claimable)
        .values(state=CLAIMED, claimed_at=now, claim_token=token)
        .execution_options(synchronize_session=False)
    )
    rows = session.execute(
        select(table).where(table.claim_token == token).order_by(*order)
        .execution_options(populate_existing=True)
    ).scalars().all()
    return list(rows)


def drain(database_url: str, *, claim: Callable[[Session], list[Claimed]],
          handle: Callable[[Claimed], None], failed: Callable[[Claimed, Exception], None],
          triage: Callable[[list[Claimed]], list[Claimed]] | None = None) -> int:
    """Claim due rows and handle each; returns how many were claimed.

    The claim commits on its own, so every other worker sees it at once. `triage` may take some
    claimed rows away from the one-by-one pass (handled together, or put back to wait). Each
    row is then handled — and settled — in transactions of its own, so one row that fails
    neither undoes nor holds up the others: `failed` settles it for a later try, and should
    even that fail, its lease gives it back. The loop survives whatever one row does.
    """
    with transaction(database_url) as session:
        claimed = claim(session)
    for item in triage(claimed) if triage is not None and claimed else claimed:
        try:
            handle(item)
        except Exception as exc:
            try:
                failed(item, exc)
            except Exception:
                logger.exception("could not settle %r after it failed; its lease gives it back",
                                 item)
    return len(claimed)
