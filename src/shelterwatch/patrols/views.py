"""Patrol endpoints: `GET /v1/tasks`, take a task, `POST /v1/tasks/{id}/result`, positions;
and the operator's list and creation of units."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from shelterwatch.answers import documented
from shelterwatch.auth import service as auth
from shelterwatch.auth.service import Actor
from shelterwatch.checks import service as checks
from shelterwatch.checks.schemas import CheckIn
from shelterwatch.clock import utcnow
from shelterwatch.deps import DbId, ReadSession, SettingsDep, WriteSession, require_role
from shelterwatch.patrols import service as patrols
from shelterwatch.patrols.models import PatrolUnit, Task
from shelterwatch.patrols.schemas import (
    NewUnit,
    TaskDone,
    TaskOut,
    TaskResult,
    UnitIn,
    UnitOut,
    UnitsAndTasks,
    UnitTasks,
    UnitUpdate,
)
from shelterwatch.shelters.models import Shelter
from shelterwatch.vocabulary import ObservationKind, Role

router = APIRouter(tags=["patrols"])
Patrol = Annotated[Actor, Depends(require_role(Role.PATROL))]
Operator = Annotated[Actor, Depends(require_role(Role.OPERATOR))]


def task_view(session: Session, task: Task) -> dict[str, Any]:
    shelter = session.get(Shelter, task.shelter_id)
    return {**patrols.public(task), "shelter": {
        "id": task.shelter_id, "name": shelter.name if shelter else "",
        "address": shelter.address if shelter else "",
        "lat": shelter.lat if shelter else None, "lon": shelter.lon if shelter else None}}


def unit_view(unit: PatrolUnit) -> dict[str, Any]:
    return {"id": unit.id, "name": unit.name, "available": unit.available, "lat": unit.lat,
            "lon": unit.lon,
            "position_at": unit.position_at.isoformat() if unit.position_at else None}


@router.get("/v1/tasks", summary="This patrol unit's open tasks, dispatch first (patrol)",
            **documented(UnitTasks))
def list_tasks(actor: Patrol, session: ReadSession) -> dict[str, Any]:
    unit = patrols.unit_for_token(session, actor.token_id)
    return {"unit": unit_view(unit),
            "tasks": [task_view(session, t) for t in patrols.tasks_for_unit(session, unit)]}


@router.post("/v1/tasks/{task_id}/take", summary="Take a task: on our way (patrol)",
             **documented(TaskOut))
def take_task(task_id: DbId, actor: Patrol, session: WriteSession) -> dict[str, Any]:
    unit = patrols.unit_for_token(session, actor.token_id)
    task = patrols.take(session, task=patrols.get_task(session, task_id), unit=unit,
                        now=utcnow(), actor=actor.label)
    view = task_view(session, task)
    session.commit()
    return view


@router.post("/v1/tasks/{task_id}/result", status_code=201,
             summary="Record what the unit found: open, locked, forced open (patrol)",
             **documented(TaskDone, 201))
def task_result(task_id: DbId, result: TaskResult, actor: Patrol, session: WriteSession,
                settings: SettingsDep) -> dict[str, Any]:
    now = utcnow()
    unit = patrols.unit_for_token(session, actor.token_id)
    task = patrols.get_task(session, task_id)
    intake = checks.submit(
        session, check=CheckIn(shelter_id=task.shelter_id, kind=result.kind, lat=result.lat,
                               lon=result.lon, note=result.note, reason=result.reason),
        actor=actor, now=now, tracking_prefix=settings.tracking_prefix)
    patrols.finish(session, task=task, unit=unit, result=ObservationKind(result.kind),
                   note=result.note, now=now, actor=actor.label)
    if result.lat is not None and result.lon is not None:
        patrols.update_unit(session, unit=unit, lat=result.lat, lon=result.lon, now=now,
                            actor=actor.label)
    answer = {"task": task_view(session, task), "check": checks.receipt(intake)}
    session.commit()
    return answer


@router.post("/v1/patrols/me", summary="Report this unit's position and availability (patrol)",
             **documented(UnitOut))
def update_me(update: UnitUpdate, actor: Patrol, session: WriteSession) -> dict[str, Any]:
    unit = patrols.unit_for_token(session, actor.token_id)
    patrols.update_unit(session, unit=unit, lat=update.lat, lon=update.lon,
                        available=update.available, now=utcnow(), actor=actor.label)
    view = unit_view(unit)
    session.commit()
    return view


@router.get("/v1/patrols", summary="Patrol units and their open tasks (operator)",
            **documented(UnitsAndTasks))
def list_units(actor: Operator, session: ReadSession) -> dict[str, Any]:
    tasks = patrols.list_open(session)
    return {"units": [unit_view(u) for u in patrols.list_units(session)],
            "tasks": [task_view(session, t) for t in tasks]}


@router.post("/v1/patrols", status_code=201,
             summary="Create a patrol unit with its token, shown once (operator)",
             **documented(NewUnit, 201))
def create_unit(unit_in: UnitIn, actor: Operator, session: WriteSession) -> dict[str, Any]:
    now = utcnow()
    token, plaintext = auth.create(session, role=Role.PATROL.value, name=unit_in.name, now=now,
                                   actor=actor.label)
    unit = patrols.create_unit(session, name=unit_in.name, token_id=token.id, lat=unit_in.lat,
                               lon=unit_in.lon, now=now, actor=actor.label)
    answer = {**unit_view(unit), "token": plaintext}
    session.commit()
    return answer
