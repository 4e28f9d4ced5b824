"""When an alert ends: its open cases close as `alert_ended`, its patrol work and timers stop.

Why the worker does this and not `alerts.service.end`: alerts are a registry, below incidents and
patrols in the layers (DESIGN §6, the import-linter contract in pyproject.toml), so the end
transition cannot reach them without an upward import or a hidden callback; and every way an alert
ends (operator, feed poller, CAP, replay) goes through that one registry function, which should
stay small. Instead the worker, which follows the log, sweeps on every `alert.ended` fact, when it
starts (an alert that ended while no worker ran) and every `status_refresh_s`.

The sweep is about state, not about facts: "open incidents whose alert has ended and whose area no
alert covers any more; open check rounds of ended alerts; timers still waiting on ended alerts".
It runs under the log's write lock and reads that state after taking it, so two workers, a
restarted worker, or the same `alert.ended` seen twice resolve each case exactly once: whoever
comes second finds nothing left to do. An incident whose shelter is still under another alert
(the oblast's alert outlasting the city's) stays open until that one ends too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shelterwatch.alerts import service as alerts
from shelterwatch.alerts.models import Alert
from shelterwatch.escalation import timers
from shelterwatch.escalation.models import Timer
from shelterwatch.incidents import service as incidents
from shelterwatch.incidents.models import Incident
from shelterwatch.log import service as log
from shelterwatch.outbox import queue
from shelterwatch.patrols import service as patrols
from shelterwatch.patrols.models import Task
from shelterwatch.vocabulary import FactKind, Noun, Resolution, Subject, TaskKind

ACTOR = "worker"
# Facts after which a sweep may find work.
TRIGGERS = frozenset({FactKind.ALERT_ENDED, FactKind.TASK_CREATED})


@dataclass
class Swept:
    """What one sweep did."""

    incidents: list[int] = field(default_factory=list)
    tasks: list[int] = field(default_factory=list)
    timers: int = 0

    def __bool__(self) -> bool:
        return bool(self.incidents or self.tasks or self.timers)


def anything_to_sweep(session: Session) -> bool:
    """Whether `close_ended` may find work: a read, without the log's lock.

    A surge's every patrol task is a trigger, and each sweep held the log's lock (which every
    resident's report waits for) while it looked and found nothing. A look without the lock is
    enough to skip: it runs after the triggering fact was committed, so it sees that fact's
    state; whatever comes after has a trigger of its own. `close_ended` still re-reads under
    the lock before it changes anything.
    """
    ended = Alert.ended_at.is_not(None)
    looks = [
        select(Incident.id).join(Alert, Alert.id == Incident.alert_id)
        .where(Incident.resolved_at.is_(None), ended),
        select(Task.id).join(Alert, Alert.id == Task.alert_id)
        .where(Task.kind == TaskKind.CHECK.value, Task.state.in_((patrols.OPEN, patrols.TAKEN)),
               ended),
    ]
    return (any(session.execute(look.limit(1)).first() is not None for look in looks)
            or bool(_ended_with_timers(session)))


def close_ended(session: Session, *, now: datetime, actor: str = ACTOR) -> Swept:
    """Resolve, cancel and stop whatever still waits on alerts that have ended."""
    log.lock(session)  # from here on no other writer moves; what we read next is current
    swept = Swept()
    open_cases = session.execute(
        select(Incident).join(Alert, Alert.id == Incident.alert_id)
        .where(Incident.resolved_at.is_(None), Alert.ended_at.is_not(None))
        .order_by(Incident.id)
    ).scalars().all()
    for incident in open_cases:
        if alerts.active_for_area(session, incident.area_id, now).under_alert:
            continue  # another alert still covers this door: the case goes on
        incidents.resolve(session, incident=incident, resolution=Resolution.ALERT_ENDED,
                          observation_id=None, actor=actor, now=now)
        cancelled = patrols.cancel_open_for_incident(session, incident_id=incident.id, now=now,
                                                     actor=actor)
        swept.incidents.append(incident.id)
        swept.tasks += [t.id for t in cancelled]
    rounds = session.execute(
        select(Task).join(Alert, Alert.id == Task.alert_id)
        .where(Task.kind == TaskKind.CHECK.value, Task.state.in_((patrols.OPEN, patrols.TAKEN)),
               Alert.ended_at.is_not(None))
        .order_by(Task.id)
    ).scalars().all()
    swept.tasks += [patrols.cancel(session, task=t, now=now, actor=actor).id for t in rounds]
    swept.timers = _stop_timers(session)
    return swept


def _ended_with_timers(session: Session) -> list[int]:
    """Ended alerts whose start or rounds timer is still pending."""
    waiting = session.execute(
        select(Timer.subject).where(Timer.kind.in_((timers.ALERT, timers.ROUNDS)),
                                    Timer.state == queue.PENDING)
    ).scalars().all()
    ids = {Subject.parse(s).number for s in waiting}
    if not ids:
        return []
    return list(session.execute(
        select(Alert.id).where(Alert.id.in_(ids), Alert.ended_at.is_not(None))).scalars())


def _stop_timers(session: Session) -> int:
    """Finish the alert-start and rounds timers still pending for ended alerts.

    A claimed one is left to its worker, which finds the alert ended and finishes it itself.
    """
    ended = _ended_with_timers(session)
    if not ended:
        return 0
    done = session.execute(
        update(Timer).where(Timer.subject.in_([str(Subject(Noun.ALERT, i)) for i in ended]),
                            Timer.kind.in_((timers.ALERT, timers.ROUNDS)),
                            Timer.state == queue.PENDING)
        .values(state=timers.DONE).execution_options(synchronize_session=False))
    return int(getattr(done, "rowcount", 0) or 0)
