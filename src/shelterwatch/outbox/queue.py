"""Claiming due rows of a work table so that two workers never take the same row at once.

PostgreSQL: `SELECT … FOR UPDATE SKIP LOCKED` picks rows no other worker holds. SQLite: the
transaction already holds the write lock (BEGIN IMMEDIATE), and `UPDATE … WHERE state='pending'`
only takes rows still pending. A claim older than the lease is taken over, so a worker that died
between claiming and finishing loses nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

Row = TypeVar("Row")



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
