"""Durable timers: a row per subject saying when the worker must look at it next.

Arming is an upsert that only ever brings a timer forward; claiming reuses the outbox's claim
query, so two workers never run the same timer and a dead worker's claim is taken over.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import case, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shelterwatch.clock import as_utc
from shelterwatch.escalation.models import Timer
from shelterwatch.outbox import queue

DONE = queue.QueueState.DONE


class TimerKind(StrEnum):
    """What a timer wakes the worker for: a case's next rung, an alert's start, its rounds."""

    INCIDENT = "incident"
    ALERT = "alert"
    ROUNDS = "rounds"


INCIDENT, ALERT, ROUNDS = TimerKind.INCIDENT, TimerKind.ALERT, TimerKind.ROUNDS


def find(session: Session, *, subject: str, kind: str) -> Timer | None:
    return session.execute(
        select(Timer).where(Timer.subject == subject, Timer.kind == kind)).scalar_one_or_none()


def arm(session: Session, *, subject: str, kind: str, due_at: datetime,
        reopen: bool = True) -> Timer:
    """Make sure the worker looks at `subject` no later than `due_at`."""
    timer = find(session, subject=subject, kind=kind)
    if timer is None:
        timer = Timer(subject=subject, kind=kind, due_at=due_at, state=queue.PENDING)
        try:
            with session.begin_nested():
                session.add(timer)
                session.flush()
            return timer
        except IntegrityError:  # armed by another process at the same moment
            timer = find(session, subject=subject, kind=kind)
            assert timer is not None
    if timer.state == DONE and not reopen:
        return timer
    if timer.state == queue.CLAIMED:
        # Being handled right now: a due time after the claim tells `settle` to look again.
        timer.due_at = due_at
    elif timer.state == DONE or as_utc(timer.due_at) > due_at:
        timer.state, timer.due_at = queue.PENDING, due_at
    return timer


def claim(session: Session, *, now: datetime, lease_s: float, limit: int = 20,
          kinds: tuple[TimerKind, ...] | None = None) -> list[Timer]:
    """Claim due timers (of `kinds`, or any), alert starts first: a country's door unlocks and
    check-ins must not wait behind the incidents reported in the same second."""
    return queue.claim_due(session, Timer, due_column="due_at", now=now, lease_s=lease_s,
                           limit=limit, ahead=case((Timer.kind == ALERT, 0), else_=1),
                           where=None if kinds is None else Timer.kind.in_(list(kinds)))


def any_due(session: Session, *, now: datetime, lease_s: float) -> bool:
    """Whether `claim` would find a timer (a read: an idle tick takes no write lock)."""
    return queue.any_due(session, Timer, due_column="due_at", now=now, lease_s=lease_s)


def settle(session: Session, *, timer_id: int, claim_token: str,
           next_at: datetime | None) -> bool:
    """After handling: re-arm for `next_at` or finish; False if the claim was taken over."""
    timer = session.get(Timer, timer_id, populate_existing=True)
    if timer is None or timer.claim_token != claim_token:
        return False
    claimed_at = as_utc(timer.claimed_at) if timer.claimed_at else None
    if claimed_at is not None and as_utc(timer.due_at) > claimed_at:
        # Re-armed while we worked (a new fact arrived): look again then, or sooner.
        rearmed = as_utc(timer.due_at)
        next_at = rearmed if next_at is None else min(next_at, rearmed)
    timer.claim_token, timer.claimed_at = None, None
    if next_at is None:
        timer.state = DONE
    else:
        timer.state, timer.due_at = queue.PENDING, next_at
    return True


def still_ours(session: Session, *, timer_id: int, claim_token: str) -> bool:
    timer = session.get(Timer, timer_id, populate_existing=True)
    return timer is not None and timer.claim_token == claim_token
