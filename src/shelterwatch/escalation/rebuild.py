"""Recompute the escalation's derived tables from the fact log and `now` (DESIGN §3.3).

Run after `incidents.rebuild` (observations, statuses, incidents and place reports), with the
worker stopped. What is derived, and from what:
- `patrol_tasks`: `task.created` / `taken` / `done` / `cancelled` facts (their payloads carry the
  whole row; the patrol's note lives in the private part of `task.done`).
- `escalation_steps`: `escalation.step` facts (an operator's "dispatch now" re-takes a rung; the
  later fact wins, as the live row was replaced).
- `escalation_timers`: what the worker must look at next, from the rebuilt state and `now`: an
  open incident's next rung by the city's ladder; an alert's start until
  `escalation.alert_started`, then its rounds until `escalation.rounds` or its end.

What is primary, not derived, and kept as it is: registries typed in or imported (areas,
shelters, tokens, owners, keyholders, patrol units and their positions, door controllers and the
heartbeats they send, alerts and feed state), `outbox_deliveries` and `outbox_dead_letters` (the
record of what was actually sent — a rebuild must never send anything again) and
`idempotency_keys` (the receipts clients already hold).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from shelterwatch.alerts.models import Alert
from shelterwatch.clock import as_utc
from shelterwatch.config import Settings
from shelterwatch.escalation import ladder, timers
from shelterwatch.escalation.models import StepTaken, Timer
from shelterwatch.incidents.models import Incident
from shelterwatch.log.models import Fact
from shelterwatch.outbox import queue
from shelterwatch.patrols.models import Task
from shelterwatch.rules.escalation import Step, unverified_at
from shelterwatch.rules.escalation import ladder as rungs
from shelterwatch.vocabulary import FactKind, Noun, Subject

TASK_FACTS = (FactKind.TASK_CREATED, FactKind.TASK_TAKEN, FactKind.TASK_DONE,
              FactKind.TASK_CANCELLED)
KINDS = (*TASK_FACTS, FactKind.ESCALATION_STEP, FactKind.ALERT_STARTED,
         FactKind.ESCALATION_ALERT_STARTED, FactKind.ESCALATION_ROUNDS)
BATCH = 2000


@dataclass
class Rebuilt:
    tasks: int = 0
    steps: int = 0
    timers: int = 0
    pending_timers: int = 0


@dataclass
class _Seen:
    """Which alerts the log says started, had their start handled, and had rounds planned."""

    started: dict[int, datetime]
    handled: set[int]
    rounds: set[int]


def rebuild(session: Session, *, settings: Settings, now: datetime) -> Rebuilt:
    """Empty the escalation's derived tables and recompute them (the caller commits)."""
    for model in (Task, StepTaken, Timer):
        session.execute(delete(model))
    result = Rebuilt()
    seen = _Seen({}, set(), set())
    for fact in _facts(session):
        payload = orjson.loads(fact.payload)
        at = as_utc(fact.at)
        if fact.kind in TASK_FACTS:
            private = orjson.loads(fact.private) if fact.private else {}
            result.tasks += _apply_task(session, fact.kind, payload, private, at)
        elif fact.kind == FactKind.ESCALATION_STEP:
            result.steps += _apply_step(session, payload, at)
        elif fact.kind == FactKind.ALERT_STARTED:
            seen.started[int(payload["id"])] = at
        elif fact.kind == FactKind.ESCALATION_ALERT_STARTED:
            seen.handled.add(int(payload["alert_id"]))
        elif fact.kind == FactKind.ESCALATION_ROUNDS:
            seen.rounds.add(int(payload["alert_id"]))
    session.flush()
    _restart_task_ids(session)
    _alert_timers(session, seen, settings, now, result)
    _incident_timers(session, settings, now, result)
    session.flush()
    return result


def _facts(session: Session) -> Iterator[Fact]:
    last = 0
    while True:
        batch = session.execute(select(Fact).where(Fact.seq > last, Fact.kind.in_(KINDS))
                                .order_by(Fact.seq).limit(BATCH)).scalars().all()
        if not batch:
            return
        yield from batch
        last = batch[-1].seq


def _apply_task(session: Session, kind: str, payload: dict[str, Any], private: dict[str, Any],
                at: datetime) -> int:
    task_id = int(payload["id"])
    task = session.get(Task, task_id)
    if task is None:
        task = Task(id=task_id, key=payload["key"], created_at=at)
        session.add(task)
    eta = payload.get("eta_s")
    task.kind, task.shelter_id = payload["kind"], int(payload["shelter_id"])
    task.incident_id, task.alert_id = payload.get("incident_id"), payload.get("alert_id")
    task.unit_id, task.position = payload.get("unit_id"), int(payload.get("position") or 0)
    task.eta_s = float(eta) if eta is not None else None
    task.state, task.result = payload["state"], payload.get("result")
    if kind == FactKind.TASK_TAKEN and task.taken_at is None:
        task.taken_at = at
    elif kind == FactKind.TASK_DONE:
        task.note, task.done_at = private.get("note"), at
    elif kind == FactKind.TASK_CANCELLED:
        task.done_at = at
    session.flush()
    return 1 if kind == FactKind.TASK_CREATED else 0


def _apply_step(session: Session, payload: dict[str, Any], at: datetime) -> int:
    if payload["step"] == Step.CANCEL_PATROL_TASK.value:
        return 0  # calling off a task is not a rung; the task's own facts say it
    incident_id = int(payload["incident_id"])
    row = session.execute(select(StepTaken).where(
        StepTaken.incident_id == incident_id, StepTaken.step == payload["step"])
    ).scalar_one_or_none()
    if row is None:
        session.add(StepTaken(incident_id=incident_id, step=payload["step"], at=at))
        session.flush()
        return 1
    row.at = at
    return 0


def _restart_task_ids(session: Session) -> None:
    """Task ids came from the log; PostgreSQL's sequence must continue after the largest."""
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(text(
        "SELECT setval(pg_get_serial_sequence('patrol_tasks', 'id'), "
        "COALESCE((SELECT MAX(id) FROM patrol_tasks), 0) + 1, false)"))


def _timer(session: Session, result: Rebuilt, *, subject: str, kind: str,
           due_at: datetime | None, now: datetime) -> None:
    state = queue.PENDING if due_at is not None else timers.DONE
    session.add(Timer(subject=subject, kind=kind, due_at=due_at or now, state=state))
    result.timers += 1
    result.pending_timers += state == queue.PENDING


def _alert_timers(session: Session, seen: _Seen, settings: Settings, now: datetime,
                  result: Rebuilt) -> None:
    for alert_id, started_fact_at in sorted(seen.started.items()):
        alert = session.get(Alert, alert_id)
        if alert is None:
            continue
        ended = alert.ended_at is not None
        subject = str(Subject(Noun.ALERT, alert_id))
        waiting = not ended and alert_id not in seen.handled
        _timer(session, result, subject=subject, kind=timers.ALERT,
               due_at=started_fact_at if waiting else None, now=now)
        if alert_id not in seen.handled:
            continue  # rounds are armed when the start is handled
        due = None
        if not ended and alert_id not in seen.rounds:
            policy = ladder.policy_for_area(session, settings, alert.area_id)
            due = unverified_at(as_utc(alert.started_at), policy)
        _timer(session, result, subject=subject, kind=timers.ROUNDS, due_at=due, now=now)


def _incident_timers(session: Session, settings: Settings, now: datetime,
                     result: Rebuilt) -> None:
    """An open case waits for its next rung not yet taken; a closed one waits for nothing.

    Once the worker has caught up that is exactly the `next_at` its last `advance` returned.
    """
    for incident in session.execute(select(Incident).order_by(Incident.id)).scalars():
        facts = ladder.facts_of(session, incident)
        due = None
        if not facts.resolved:
            policy = ladder.policy_for_area(session, settings, incident.area_id)
            left = [facts.opened_at + timedelta(seconds=delay)
                    for step, delay in rungs(facts, policy) if step not in facts.steps_done]
            due = min(left) if left else None
        elif facts.patrol_task_open:
            due = now  # a closed case whose patrol was not yet called off
        _timer(session, result, subject=str(Subject(Noun.INCIDENT, incident.id)),
               kind=timers.INCIDENT, due_at=due, now=now)
