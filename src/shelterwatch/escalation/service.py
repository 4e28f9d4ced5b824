"""The worker's entry points: react to new facts by arming timers, and run the timers due.

Timers are claimed in one short transaction and each is handled in its own, so a slow step
never blocks another incident and a crash loses at most the claim, which the lease gives back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from shelterwatch.alerts.models import Alert
from shelterwatch.config import Settings
from shelterwatch.db import is_sqlite, reading, transaction
from shelterwatch.escalation import alerts as alert_steps
from shelterwatch.escalation import fanout, ladder, timers
from shelterwatch.escalation.models import Timer
from shelterwatch.incidents.models import Incident
from shelterwatch.log.models import Fact
from shelterwatch.outbox import queue
from shelterwatch.vocabulary import FactKind, Noun, Subject

logger = logging.getLogger(__name__)
RETRY_S = 5.0
CLAIM_LIMIT = 20  # incident and rounds timers claimed at once
SQLITE_CHECK_IN_PARTS = 4  # transactions a start's check-ins are queued in, on SQLite
STARTS_LIMIT = 1000  # alert starts claimed at once: every oblast's, and every raion's


ARMING = frozenset({FactKind.ALERT_STARTED, FactKind.INCIDENT_OPENED, FactKind.INCIDENT_RESOLVED})


def acts_on(fact: Fact) -> bool:
    """Whether `on_facts` arms anything for this fact."""
    return fact.kind in ARMING


def on_facts(session: Session, facts: Sequence[Fact], *, now: datetime) -> int:
    """Arm the timers new facts call for; returns how many were armed."""
    armed = 0
    for fact in facts:
        payload = orjson.loads(fact.payload)
        if fact.kind == FactKind.ALERT_STARTED:
            timers.arm(session, subject=str(Subject(Noun.ALERT, int(payload["id"]))),
                       kind=timers.ALERT, due_at=now, reopen=False)
        elif fact.kind in (FactKind.INCIDENT_OPENED, FactKind.INCIDENT_RESOLVED):
            # Opening starts the ladder; resolving may call off a patrol on its way.
            timers.arm(session, subject=str(Subject(Noun.INCIDENT, int(payload["id"]))),
                       kind=timers.INCIDENT, due_at=now)
        else:
            continue
        armed += 1
    return armed


def sync_open_incidents(session: Session, *, now: datetime) -> int:
    """Arm a timer for every unresolved incident without one (e.g. facts missed while down)."""
    have = set(session.execute(
        select(Timer.subject).where(Timer.kind == timers.INCIDENT)).scalars())
    armed = 0
    for incident_id in session.execute(
            select(Incident.id).where(Incident.resolved_at.is_(None))).scalars():
        subject = str(Subject(Noun.INCIDENT, incident_id))
        if subject not in have:
            timers.arm(session, subject=subject, kind=timers.INCIDENT, due_at=now)
            armed += 1
    return armed


def handle(session: Session, *, timer: Timer, settings: Settings,
           now: datetime) -> datetime | None:
    """Do what one timer is for; returns when to look at its subject again."""
    kind, ident = timer.kind, Subject.parse(timer.subject).number
    if kind == timers.INCIDENT:
        incident = session.get(Incident, ident)
        if incident is None:
            return None
        return ladder.advance(session, incident=incident, settings=settings, now=now)
    alert = session.get(Alert, ident)
    if alert is None or alert.ended_at is not None:
        return None
    if kind == timers.ALERT:
        alert_steps.start(session, alert=alert, settings=settings, now=now)
    elif kind == timers.ROUNDS:
        alert_steps.plan_rounds(session, alert=alert, settings=settings, now=now)
    return None


def start_alerts(database_url: str, *, claimed: Sequence[tuple[int, str, int]],
                 settings: Settings, clock: Callable[[], datetime],
                 on_queued: Callable[[], None] = lambda: None) -> None:
    """Alerts' starts (timer id, claim token, alert id), queued together in a few short
    transactions: every alert's door unlocks in one statement, then the check-ins (one
    statement, or a few on SQLite), then the start facts. A national alert is one start per
    oblast, all at once; no door waits for any alert's check-ins, and a report waits for the
    log's lock no longer than one statement.

    A crash part-way loses nothing: the timers' leases give the starts back, and queueing again
    skips what was queued (unique keys).
    """
    with reading(database_url) as session:
        alive = list(session.execute(
            select(Alert.id).where(Alert.id.in_([c[2] for c in claimed]),
                                   Alert.ended_at.is_(None))).scalars())

    def still_ours(session: Session) -> bool:
        return all(timers.still_ours(session, timer_id=t, claim_token=token)
                   for t, token, _ in claimed)

    # Doors: every alert's in one statement. Check-ins: the same on PostgreSQL (the log's lock
    # is held only for the facts at the end); on SQLite, whose write lock is the whole
    # database's, in a few transactions, so a report waits for a quarter of a country, not all
    # of it (one per alert took 27 turns at a contended lock: 6.8 s to queue them all).
    parts = SQLITE_CHECK_IN_PARTS if is_sqlite(database_url) else 1
    size = -(-len(alive) // parts) if alive else 1
    batches = [alive[i:i + size] for i in range(0, len(alive), size)]
    counts: dict[int, tuple[int, int]] = {}
    for step, groups in ((fanout.queue_door_unlocks, [alive] if alive else []),
                         (fanout.queue_check_ins, batches)):
        began, queued = time.monotonic(), 0
        for group in groups:
            with transaction(database_url) as session:
                if not still_ours(session):
                    return
                if step is fanout.queue_check_ins:
                    counts.update(fanout.counts(session, group))
                queued += sum(step(session, group, now=clock()).values())
            on_queued()
        logger.info("%s alert starts: %s %s queued in %.0f ms", len(alive), queued,
                    step.__name__.removeprefix("queue_"), (time.monotonic() - began) * 1000)
    with transaction(database_url) as session:
        if not still_ours(session):
            return
        for timer_id, token, alert_id in claimed:
            alert = session.get(Alert, alert_id)
            if alert_id in counts and alert is not None:
                shelters, asked = counts[alert_id]
                alert_steps.finish_start(session, alert=alert, shelters=shelters, asked=asked,
                                         settings=settings, now=clock())
            timers.settle(session, timer_id=timer_id, claim_token=token, next_at=None)


def run_due(database_url: str, *, settings: Settings, clock: Callable[[], datetime],
            limit: int = CLAIM_LIMIT, on_queued: Callable[[], None] = lambda: None) -> int:
    """Claim due timers and handle each in its own transaction; returns how many ran.

    `on_queued` is called as soon as deliveries are committed (an alert's door unlocks go out
    while its check-ins are still being queued).
    """
    def claim(session: Session) -> list[Claimed]:
        # Every alert start due, however many (a national alert is one per oblast), and then
        # the other timers: no start's doors wait for another start's turn.
        lease_s = settings.outbox_lease_s
        return [(t.id, t.claim_token or "", t.kind, t.subject) for t in
                timers.claim(session, now=clock(), lease_s=lease_s, limit=STARTS_LIMIT,
                             kinds=(timers.ALERT,))
                + timers.claim(session, now=clock(), lease_s=lease_s, limit=limit,
                               kinds=(timers.INCIDENT, timers.ROUNDS))]

    def starts_first(claimed: list[Claimed]) -> list[Claimed]:
        """An alert's starts run together (one plan for every door and check-in of them all);
        the other timers one by one."""
        starts = [(t, token, Subject.head(subject).number)
                  for t, token, kind, subject in claimed if kind == timers.ALERT]
        if starts:
            try:
                start_alerts(database_url, claimed=starts, settings=settings, clock=clock,
                             on_queued=on_queued)
            except Exception:  # their leases give them back
                logger.exception("alert starts %s failed; retried after the lease", starts)
        return [c for c in claimed if c[2] != timers.ALERT]

    def run(item: Claimed) -> None:
        timer_id, token, _kind, _subject = item
        with transaction(database_url) as session:
            if not timers.still_ours(session, timer_id=timer_id, claim_token=token):
                return
            timer = session.get(Timer, timer_id)
            assert timer is not None
            next_at = handle(session, timer=timer, settings=settings, now=clock())
            timers.settle(session, timer_id=timer_id, claim_token=token, next_at=next_at)

    def retry(item: Claimed, exc: Exception) -> None:
        logger.error("escalation timer %s failed (%r); retrying in %ss", item[0], exc, RETRY_S,
                     exc_info=exc)
        with transaction(database_url) as session:
            timers.settle(session, timer_id=item[0], claim_token=item[1],
                          next_at=clock() + timedelta(seconds=RETRY_S))

    with reading(database_url) as session:
        if not timers.any_due(session, now=clock(), lease_s=settings.outbox_lease_s):
            return 0
    return queue.drain(database_url, claim=claim, handle=run, failed=retry, triage=starts_first)


Claimed = tuple[int, str, str, str]  # a timer's id, claim token, kind and subject


def sync_active_alerts(session: Session, *, now: datetime) -> int:
    """Arm the start timer of every active alert that never had one (started while down)."""
    armed = 0
    for alert_id in session.execute(
            select(Alert.id).where(Alert.ended_at.is_(None))).scalars():
        subject = str(Subject(Noun.ALERT, alert_id))
        if timers.find(session, subject=subject, kind=timers.ALERT) is None:
            timers.arm(session, subject=subject, kind=timers.ALERT, due_at=now)
            armed += 1
    return armed
