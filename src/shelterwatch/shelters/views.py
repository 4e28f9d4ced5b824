"""Public registry reads: `GET /v1/shelters` (GeoJSON, bbox, cursor) and `GET /v1/shelters/{id}`."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request

from shelterwatch.answers import documented
from shelterwatch.auth.service import Actor
from shelterwatch.deps import DbId, ReadSession, require_role
from shelterwatch.rules.readiness import UNAUDITED
from shelterwatch.shelters import service as shelters
from shelterwatch.shelters.schemas import RegistryFeature, ShelterFeature, ShelterPage
from shelterwatch.vocabulary import Role

router = APIRouter(tags=["shelters"])


def _status_of(request: Request) -> Any:
    """The live status source; `unknown` until evidence says otherwise."""
    return getattr(request.app.state, "status_of", None)


def _readiness(index: Any, shelter_id: int) -> dict[str, Any]:
    """The audits' readiness the index holds (kept current from the log)."""
    found = index.readiness_of(shelter_id) if index is not None else None
    return dict(found) if found else dict(UNAUDITED)


@router.get("/v1/shelters", summary="Shelters as a GeoJSON FeatureCollection",
            **documented(ShelterPage))
def list_shelters(
    request: Request, session: ReadSession,
    bbox: Annotated[str | None, Query(description="minLon,minLat,maxLon,maxLat")] = None,
    limit: Annotated[int, Query(ge=1, le=shelters.MAX_PAGE)] = 500,
    cursor: str | None = None,
) -> dict[str, Any]:
    box = shelters.BBox.parse(bbox) if bbox else None
    after = shelters.decode_cursor(cursor) if cursor else 0
    rows, last = shelters.list_page(session, bbox=box, limit=limit, after_id=after)
    status_of = _status_of(request)
    index = getattr(request.app.state, "shelter_index", None)
    features = []
    for s in rows:
        if index is not None and index.is_ghost(s.id):
            continue  # an audit found no shelter there: off the map (GET /v1/ghosts lists it)
        status = status_of(s.id)["status"] if status_of else "unknown"
        features.append(shelters.feature(s, status=status, readiness=_readiness(index, s.id)))
    return {"type": "FeatureCollection", "features": features,
            "next_cursor": shelters.encode_cursor(last) if last is not None else None}


@router.get("/v1/shelters/{shelter_id}", summary="One shelter with its status and why",
            **documented(ShelterFeature))
def get_shelter(request: Request, session: ReadSession, shelter_id: DbId) -> dict[str, Any]:
    shelter = shelters.get_or_raise(session, shelter_id)
    status_of = _status_of(request)
    index = getattr(request.app.state, "shelter_index", None)
    extra: dict[str, Any] = {"readiness": _readiness(index, shelter_id)}
    if index is not None and index.is_ghost(shelter_id):
        extra["ghost"] = True  # kept in the registry; off every resident-facing answer
    if status_of:
        info = status_of(shelter_id)
        return shelters.feature(shelter, status=info["status"],
                                status_explanation=info["explanation"], **extra)
    explanation = {"uk": "Ще немає свідчень про стан дверей.",
                   "en": "No evidence about the door yet."}
    return shelters.feature(shelter, status="unknown", status_explanation=explanation, **extra)


@router.get("/v1/registry/shelters/{shelter_id}",
            summary="One shelter with its private fields (operators and auditors)",
            **documented(RegistryFeature))
def get_registry_entry(
    session: ReadSession, shelter_id: DbId,
    actor: Annotated[Actor, Depends(require_role(Role.OPERATOR, Role.AUDITOR))],
) -> dict[str, Any]:
    shelter = shelters.get_or_raise(session, shelter_id)
    return shelters.feature(shelter, owner=shelter.owner, source_id=shelter.source_id,
                            details=orjson.loads(shelter.details))
