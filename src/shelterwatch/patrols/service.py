"""Patrol units and their tasks. Callers own the transaction; every change appends a fact."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from shelterwatch.clock import as_utc
from shelterwatch.errors import Conflict, Forbidden, InvalidInput, NotFound
from shelterwatch.log import service as log
from shelterwatch.observations.models import ShelterStatus
from shelterwatch.patrols.models import PatrolUnit, Task
from shelterwatch.rules import dispatch
from shelterwatch.vocabulary import FactKind, ObservationKind, Status, TaskKind

OPEN, TAKEN, DONE, CANCELLED = "open", "taken", "done", "cancelled"
RESULTS = (ObservationKind.OPEN, ObservationKind.LOCKED, ObservationKind.FORCED_OPEN,
           ObservationKind.FULL, ObservationKind.UNFIT, ObservationKind.MISSING)


def create_unit(session: Session, *, name: str, token_id: int | None, now: datetime, actor: str,
                lat: float | None = None, lon: float | None = None) -> PatrolUnit:
    if not name.strip():
        raise InvalidInput("a patrol unit needs a name (its call sign)")
    if (lat is None) != (lon is None):
        raise InvalidInput("lat and lon come together: give both or neither")
    if lat is not None and lon is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidInput(f"lat must be within ±90 and lon within ±180, got {lat}, {lon}")
    unit = PatrolUnit(name=name.strip(), token_id=token_id, lat=lat, lon=lon,
                      position_at=now if lat is not None else None, available=True,
                      created_at=now)
    session.add(unit)
    session.flush()
    log.append(session, kind=FactKind.PATROL_CREATED, actor=actor, now=now,
               payload={"id": unit.id, "name": unit.name})
    return unit


def get_or_raise(session: Session, unit_id: int) -> PatrolUnit:
    unit = session.get(PatrolUnit, unit_id)
    if unit is None:
        raise NotFound(f"patrol unit {unit_id} does not exist")
    return unit


def unit_for_token(session: Session, token_id: int | None) -> PatrolUnit:
    unit = session.execute(
        select(PatrolUnit).where(PatrolUnit.token_id == token_id)).scalar_one_or_none()
    if unit is None:
        raise Forbidden("this patrol token is not bound to a patrol unit")
    return unit


def list_units(session: Session) -> Sequence[PatrolUnit]:
    return session.execute(select(PatrolUnit).order_by(PatrolUnit.id)).scalars().all()


def update_unit(session: Session, *, unit: PatrolUnit, now: datetime, actor: str,
                lat: float | None = None, lon: float | None = None,
                available: bool | None = None) -> PatrolUnit:
    """A unit reports where it is and whether it can take work; the position stays private."""
    if (lat is None) != (lon is None):
        raise InvalidInput("give both lat and lon, or neither")
    if lat is not None and lon is not None:
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise InvalidInput("lat/lon out of range")
        unit.lat, unit.lon, unit.position_at = lat, lon, now
    if available is not None:
        unit.available = available
    log.append(session, kind=FactKind.PATROL_UPDATED, actor=actor, now=now,
               payload={"id": unit.id, "available": unit.available},
               private={"lat": unit.lat, "lon": unit.lon})
    return unit


def states(session: Session) -> list[dispatch.PatrolUnitState]:
    """Units as the dispatch rule sees them; a unit busy with an open_locked task is not free."""
    busy = set(session.execute(
        select(Task.unit_id).where(Task.state == TAKEN, Task.kind == TaskKind.OPEN_LOCKED.value)
    ).scalars())
    return [dispatch.PatrolUnitState(u.id, u.lat, u.lon, u.available and u.id not in busy,
                                     as_utc(u.position_at) if u.position_at else None)
            for u in list_units(session)]


def find_task(session: Session, key: str) -> Task | None:
    return session.execute(select(Task).where(Task.key == key)).scalar_one_or_none()


def tasks_for_incident(session: Session, incident_id: int, *, kind: TaskKind) -> Sequence[Task]:
    """An incident's tasks of one kind, oldest first."""
    return session.execute(
        select(Task).where(Task.incident_id == incident_id, Task.kind == kind.value)
        .order_by(Task.id)).scalars().all()


def create_task(session: Session, *, key: str, kind: TaskKind, shelter_id: int, now: datetime,
                actor: str, unit_id: int | None = None, incident_id: int | None = None,
                alert_id: int | None = None, position: int = 0,
                eta_s: float | None = None) -> Task:
    """A task for a purpose named by `key`; asking again returns the task already made."""
    held = find_task(session, key)
    if held is not None:
        return held
    # Whole seconds, as the fact carries it, so a rebuild from the log restores the same row.
    eta = float(round(eta_s)) if eta_s is not None else None
    task = Task(key=key, kind=kind.value, shelter_id=shelter_id, incident_id=incident_id,
                alert_id=alert_id, unit_id=unit_id, position=position, eta_s=eta, state=OPEN,
                created_at=now)
    session.add(task)
    session.flush()
    log.append_later(session, [log.NewFact(FactKind.TASK_CREATED, actor,
                                           {**public(task), "key": task.key})], now=now)
    return task


def public(task: Task) -> dict[str, object]:
    return {"id": task.id, "kind": task.kind, "shelter_id": task.shelter_id,
            "incident_id": task.incident_id, "alert_id": task.alert_id, "unit_id": task.unit_id,
            "position": task.position, "state": task.state, "result": task.result,
            "eta_s": round(task.eta_s) if task.eta_s is not None else None,
            "created_at": task.created_at.isoformat()}


# How strong the evidence behind a door's case is, strongest first: a flood of weak cases (one
# network's word each) must not bury a door many witnesses confirmed.
_STRENGTH = case((ShelterStatus.status == Status.LOCKED_CONFIRMED.value, 0),
                 (ShelterStatus.status == Status.LOCKED_REPORTED.value, 1), else_=2)


def tasks_for_unit(session: Session, unit: PatrolUnit) -> Sequence[Task]:
    """The unit's own open work, plus dispatch tasks nobody was free to take: dispatch before
    rounds, and dispatch ordered by the strength of the evidence, then by route and age."""
    return session.execute(
        select(Task).outerjoin(ShelterStatus, ShelterStatus.shelter_id == Task.shelter_id)
        .where(
            Task.state.in_((OPEN, TAKEN)),
            or_(Task.unit_id == unit.id,
                (Task.unit_id.is_(None)) & (Task.kind == TaskKind.OPEN_LOCKED.value)),
        ).order_by(Task.kind.desc(),  # open_locked before check
                   case((Task.kind == TaskKind.OPEN_LOCKED.value, _STRENGTH), else_=0),
                   case((Task.kind == TaskKind.OPEN_LOCKED.value,
                         -func.coalesce(ShelterStatus.confidence, 0.0)), else_=0.0),
                   Task.position, Task.id)
    ).scalars().all()


def list_open(session: Session) -> Sequence[Task]:
    return session.execute(
        select(Task).where(Task.state.in_((OPEN, TAKEN))).order_by(Task.id)).scalars().all()


def get_task(session: Session, task_id: int) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound(f"task {task_id} does not exist")
    return task


def take(session: Session, *, task: Task, unit: PatrolUnit, now: datetime, actor: str) -> Task:
    """A unit says "on my way"; a task already taken by another unit is refused."""
    if task.state not in (OPEN, TAKEN) or (task.unit_id not in (None, unit.id)):
        raise Conflict(f"task {task.id} is {task.state} for another unit")
    task.unit_id, task.state, task.taken_at = unit.id, TAKEN, task.taken_at or now
    log.append(session, kind=FactKind.TASK_TAKEN, actor=actor, now=now, payload=public(task))
    return task


def finish(session: Session, *, task: Task, unit: PatrolUnit, result: ObservationKind,
           note: str | None, now: datetime, actor: str) -> Task:
    """Close a task with what the unit found; the observation itself is recorded by the caller."""
    if result not in RESULTS:
        raise InvalidInput(f"result must be one of {', '.join(r.value for r in RESULTS)}")
    if task.state in (DONE, CANCELLED):
        raise Conflict(f"task {task.id} is already {task.state}")
    if task.unit_id not in (None, unit.id):
        raise Forbidden(f"task {task.id} belongs to another unit")
    task.unit_id, task.state, task.result, task.note, task.done_at = (
        unit.id, DONE, result.value, note, now)
    log.append(session, kind=FactKind.TASK_DONE, actor=actor, now=now, payload=public(task),
               private={"note": note} if note else None)
    return task


def cancel_open_for_incident(session: Session, *, incident_id: int, now: datetime,
                             actor: str) -> list[Task]:
    """Call off the incident's open tasks: the door is open, nobody needs to drive there."""
    tasks = session.execute(
        select(Task).where(Task.incident_id == incident_id, Task.state.in_((OPEN, TAKEN)))
    ).scalars().all()
    return [cancel(session, task=task, now=now, actor=actor) for task in tasks]


def cancel(session: Session, *, task: Task, now: datetime, actor: str) -> Task:
    """Call off one open task (its reason is gone: the door is open, the alert is over)."""
    task.state, task.done_at = CANCELLED, now
    log.append(session, kind=FactKind.TASK_CANCELLED, actor=actor, now=now, payload=public(task))
    return task


def has_open_task(session: Session, incident_id: int) -> bool:
    return session.execute(
        select(Task.id).where(Task.incident_id == incident_id, Task.state.in_((OPEN, TAKEN)))
    ).first() is not None
