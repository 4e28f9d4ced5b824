"""`GET /v1/incidents`: the operator's board of locked-door cases."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from shelterwatch.answers import documented
from shelterwatch.auth.service import Actor
from shelterwatch.clock import as_utc, utcnow
from shelterwatch.deps import ReadSession, require_role
from shelterwatch.incidents import service as incidents
from shelterwatch.incidents.schemas import IncidentList
from shelterwatch.shelters.models import Shelter
from shelterwatch.vocabulary import Role

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
