"""Locked-door cases for the operator: the board's list, and the actions on one case (dispatch
a patrol now, mark it a false report)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from shelterwatch.answers import documented
from shelterwatch.auth.service import Actor
from shelterwatch.clock import as_utc, utcnow
from shelterwatch.deps import DbId, ReadSession, SettingsDep, WriteSession, require_role
from shelterwatch.escalation import ladder
from shelterwatch.incidents import service as incidents
from shelterwatch.incidents.schemas import IncidentList, IncidentOut
from shelterwatch.patrols import service as patrols
from shelterwatch.patrols.schemas import TaskOut
from shelterwatch.patrols.views import task_view
from shelterwatch.shelters.models import Shelter
from shelterwatch.vocabulary import Resolution, Role

router = APIRouter(tags=["incidents"])
Operator = Annotated[Actor, Depends(require_role(Role.OPERATOR))]


@router.get("/v1/incidents", summary="Incidents, newest first (operator)",
            **documented(IncidentList))
def list_incidents(actor: Operator, session: ReadSession,
                   state: Literal["open", "resolved", "all"] = "open",
                   limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> dict[str, Any]:
    rows = incidents.list_(session, state=state, limit=limit)
    ids = {r.shelter_id for r in rows}
    shelters = {s.id: s for s in session.execute(
        select(Shelter).where(Shelter.id.in_(ids))).scalars()} if ids else {}
    now = utcnow()
    out = []
    for row in rows:
        item = incidents.public_fields(row)
        shelter = shelters.get(row.shelter_id)
        if shelter is not None:
            item["shelter"] = {"id": shelter.id, "name": shelter.name,
                               "address": shelter.address, "lat": shelter.lat,
                               "lon": shelter.lon, "owner": shelter.owner}
        if row.resolved_at is None:
            item["open_for_s"] = int((now - as_utc(row.opened_at)).total_seconds())
        out.append(item)
    return {"incidents": out}


@router.post("/v1/incidents/{incident_id}/dispatch",
             summary="Dispatch now: send the nearest patrol without waiting (operator)",
             **documented(TaskOut))
def dispatch_now(incident_id: DbId, actor: Operator, session: WriteSession,
                 settings: SettingsDep) -> dict[str, Any]:
    incident = incidents.get_or_raise(session, incident_id)
    task = ladder.dispatch_now(session, incident=incident, settings=settings, now=utcnow(),
                               actor=actor.label)
    view = task_view(session, task)
    session.commit()
    return view


class FalseReport(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(default=None, max_length=1000)


@router.post("/v1/incidents/{incident_id}/false-report",
             summary="Mark an incident a false report and call off its tasks (operator)",
             **documented(IncidentOut))
def mark_false_report(incident_id: DbId, actor: Operator, session: WriteSession,
                      body: FalseReport | None = None) -> dict[str, Any]:
    now = utcnow()
    incident = incidents.get_or_raise(session, incident_id)
    incidents.resolve(session, incident=incident, resolution=Resolution.FALSE_REPORT,
                      observation_id=None, actor=actor.label, now=now)
    patrols.cancel_open_for_incident(session, incident_id=incident.id, now=now,
                                     actor=actor.label)
    answer = incidents.public_fields(incident)
    session.commit()
    return answer
