"""Door controllers for operators: register one, open a door remotely."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from shelterwatch.answers import documented
from shelterwatch.auth.service import Actor
from shelterwatch.clock import utcnow
from shelterwatch.deps import DbId, WriteSession, require_role
from shelterwatch.doors import service as doors
from shelterwatch.doors.schemas import DoorIn, DoorOut, UnlockQueued
from shelterwatch.errors import NotFound
from shelterwatch.outbox import service as outbox
from shelterwatch.shelters.models import Shelter
from shelterwatch.vocabulary import Role

router = APIRouter(tags=["doors"])
Operator = Annotated[Actor, Depends(require_role(Role.OPERATOR))]


@router.post("/v1/doors", status_code=201, summary="Register a shelter's door controller",
             **documented(DoorOut, 201))
def register_door(door: DoorIn, actor: Operator, session: WriteSession) -> dict[str, Any]:
    if session.get(Shelter, door.shelter_id) is None:
        raise NotFound(f"shelter {door.shelter_id} does not exist")
    row = doors.register(session, shelter_id=door.shelter_id, device_id=door.device_id,
                         now=utcnow(), actor=actor.label)
    session.commit()
    return {"shelter_id": row.shelter_id, "device_id": row.device_id}


@router.post("/v1/doors/{shelter_id}/unlock", status_code=202,
             summary="Open a door remotely: queue an unlock command (operator)",
             **documented(UnlockQueued, 202))
def unlock_door(shelter_id: DbId, actor: Operator, session: WriteSession) -> dict[str, Any]:
    now = utcnow()
    if doors.get(session, shelter_id) is None:
        raise NotFound(f"shelter {shelter_id} has no door controller")
    row = outbox.enqueue(session, doors.unlock_command(
        shelter_id, subject=f"operator:{now.isoformat()}", step="unlock", why=f"by {actor.label}"),
        now=now, actor=actor.label)
    session.commit()
    return {"delivery": row.id, "state": row.state}
