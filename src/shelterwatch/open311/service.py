"""Open311 GeoReport v2 over our reports: service codes, request records and their formats.

A service request is a resident's report and its `service_request_id` is the tracking id, so a
dashboard built for 311 follows the same cases residents do. `no_shelter_nearby` is about a place,
not a shelter: it is kept, rounded to about 100 m, for the coverage analysis.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET

from sqlalchemy import false, select
from sqlalchemy.orm import Session

from shelterwatch.errors import InvalidInput, NotFound
from shelterwatch.incidents.models import Incident
from shelterwatch.log import chain
from shelterwatch.log import service as log
from shelterwatch.observations import service as observations
from shelterwatch.observations.models import Observation, PlaceReport
from shelterwatch.rules import tracking
from shelterwatch.rules.geo import great_circle_m
from shelterwatch.shelters.models import Shelter
from shelterwatch.vocabulary import FactKind, Role

NO_SHELTER = "no_shelter_nearby"
SNAP_M = 150.0  # a request without a shelter id is about the shelter within this distance


@dataclass(frozen=True, slots=True)
class Service:
    code: str
    kind: str | None  # the observation kind; None for a place report
    name: str
    description: str


SERVICES: Sequence[Service] = (
    Service("shelter_locked", "locked", "Shelter locked",
            "The shelter's door is locked. During an alert this opens a case at once."),
    Service("shelter_full", "full", "Shelter full", "The shelter has no room left."),
    Service("shelter_unfit", "unfit", "Shelter unfit",
            "The shelter cannot be used (flooded, no light, blocked…); say why."),
    Service("shelter_missing", "missing", "No shelter at this address",
            "The registry lists a shelter here but there is none."),
    Service("shelter_open", "open", "Shelter open", "The shelter's door is open."),
    Service(NO_SHELTER, None, "No shelter nearby",
            "There is no shelter within reach of this place."),
    Service("shelter_refused", "refused", "Entry refused",
            "The door is open but people are not let in. During an alert this opens a case."),
)
BY_CODE: Mapping[str, Service] = {s.code: s for s in SERVICES}
BY_KIND: Mapping[str, Service] = {s.kind: s for s in SERVICES if s.kind}


def service_list() -> list[dict[str, Any]]:
    return [{"service_code": s.code, "service_name": s.name, "description": s.description,
             "metadata": False, "type": "realtime", "keywords": "shelter,укриття",
             "group": "shelters"} for s in SERVICES]


def service_for(code: str) -> Service:
    service = BY_CODE.get(code)
    if service is None:
        codes = ", ".join(BY_CODE)
        raise InvalidInput(f"service_code {code!r} is not one of: {codes}")
    return service


def nearest_shelter(session: Session, *, lat: float, lon: float) -> int:
    """The shelter a request without a shelter id is about: the nearest within SNAP_M."""
    dlat = SNAP_M / 111_000.0
    dlon = dlat / max(0.1, math.cos(math.radians(lat)))
    rows = session.execute(
        select(Shelter.id, Shelter.lat, Shelter.lon).where(
            Shelter.lat.between(lat - dlat, lat + dlat),
            Shelter.lon.between(lon - dlon, lon + dlon))
    ).all()
    best = min(rows, key=lambda r: great_circle_m(lat, lon, r.lat, r.lon), default=None)
    if best is None or great_circle_m(lat, lon, best.lat, best.lon) > SNAP_M:
        raise InvalidInput(f"address_id (the shelter id) is required: no shelter within "
                           f"{SNAP_M:.0f} m of lat/long")
    return int(best.id)


def record_place(session: Session, *, lat: float, lon: float, now: datetime,
                 tracking_prefix: str, private: Mapping[str, Any]) -> PlaceReport:
    """Keep a report of no shelter nearby; the precise position only in the fact's private part."""
    log.lock(session)
    tid = observations.new_tracking_id(session, prefix=tracking_prefix)
    while session.get(PlaceReport, tid) is not None:
        tid = observations.new_tracking_id(session, prefix=tracking_prefix)
    rounded = (round(lat, 3), round(lon, 3))
    seq = log.append(session, kind=FactKind.PLACE_NO_SHELTER_REPORTED, actor=Role.RESIDENT.value,
                     now=now, payload={"id": tid, "lat": rounded[0], "lon": rounded[1]},
                     private={**private, "lat": lat, "lon": lon})
    row = PlaceReport(id=tid, lat=rounded[0], lon=rounded[1], at=now, seq=seq)
    session.add(row)
    session.flush()
    return row


def _observation_request(row: Observation, shelter: Shelter | None,
                         incident: Incident | None, status: Mapping[str, Any]) -> dict[str, Any]:
    service = BY_KIND.get(row.kind, BY_KIND["locked"])
    is_open = incident is not None and incident.resolved_at is None
    if incident is not None and incident.resolved_at is not None:
        notes = f"case {incident.tracking_id} closed: {incident.resolution}"
        updated = incident.resolved_at
    elif incident is not None:
        notes = f"case {incident.tracking_id} open; {incident.me_too + 1} reports"
        updated = incident.last_report_at
    else:
        notes = status["explanation"]["en"]
        updated = row.at
    return {
        "service_request_id": row.id, "status": "open" if is_open else "closed",
        "status_notes": notes, "service_name": service.name, "service_code": service.code,
        "description": "", "agency_responsible": "shelter owner" if row.routed_to else "",
        "service_notice": "", "requested_datetime": chain.format_at(row.at),
        "updated_datetime": chain.format_at(updated), "expected_datetime": None,
        "address": shelter.address if shelter else "", "address_id": str(row.shelter_id),
        "zipcode": None, "lat": shelter.lat if shelter else None,
        "long": shelter.lon if shelter else None, "media_url": None,
    }


def _place_request(row: PlaceReport) -> dict[str, Any]:
    service = BY_CODE[NO_SHELTER]
    return {
        "service_request_id": row.id, "status": "closed",
        "status_notes": "recorded for the coverage analysis", "service_name": service.name,
        "service_code": service.code, "description": "", "agency_responsible": "",
        "service_notice": "", "requested_datetime": chain.format_at(row.at),
        "updated_datetime": chain.format_at(row.at), "expected_datetime": None, "address": "",
        "address_id": None, "zipcode": None, "lat": row.lat, "long": row.lon, "media_url": None,
    }


def requests(session: Session, *, ids: Sequence[str] | None = None, code: str | None = None,
             start: datetime | None = None, end: datetime | None = None,
             status: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
    """Residents' reports as Open311 service requests, newest first."""
    wanted = [t for t in (tracking.parse(i) for i in ids or []) if t] if ids is not None else None
    if ids is not None and not wanted:
        return []
    obs_query = select(Observation).where(Observation.role == Role.RESIDENT.value)
    place_query = select(PlaceReport)
    if wanted is not None:
        obs_query = obs_query.where(Observation.id.in_(wanted))
        place_query = place_query.where(PlaceReport.id.in_(wanted))
    if code is not None:
        kind = service_for(code).kind
        obs_query = obs_query.where(Observation.kind == kind) if kind else obs_query.where(false())
        place_query = place_query if kind is None else place_query.where(false())
    if start is not None:
        obs_query = obs_query.where(Observation.at >= start)
        place_query = place_query.where(PlaceReport.at >= start)
    if end is not None:
        obs_query = obs_query.where(Observation.at <= end)
        place_query = place_query.where(PlaceReport.at <= end)
    obs = session.execute(obs_query.order_by(Observation.at.desc()).limit(limit)).scalars().all()
    shelters = {s.id: s for s in session.execute(
        select(Shelter).where(Shelter.id.in_({o.shelter_id for o in obs}))).scalars()}
    incident_ids = {o.incident_id for o in obs if o.incident_id}
    cases = {i.id: i for i in session.execute(
        select(Incident).where(Incident.id.in_(incident_ids))).scalars()}
    out = [_observation_request(o, shelters.get(o.shelter_id),
                                cases.get(o.incident_id) if o.incident_id else None,
                                observations.public_status(
                                    observations.current(session, o.shelter_id), o.shelter_id))
           for o in obs]
    if status != "open":
        places = session.execute(place_query.order_by(PlaceReport.at.desc()).limit(limit))
        out.extend(_place_request(p) for p in places.scalars())
    if status in ("open", "closed"):
        out = [r for r in out if r["status"] == status]
    out.sort(key=lambda r: r["requested_datetime"], reverse=True)
    return out[:limit]


def request_or_raise(session: Session, request_id: str) -> dict[str, Any]:
    found = requests(session, ids=[request_id], limit=1)
    if not found:
        raise NotFound(f"no service request {request_id!r}")
    return found[0]


def to_xml(root: str, item: str, rows: Sequence[Mapping[str, Any]]) -> bytes:
    """Open311's XML: <root><item><field>value</field>…</item>…</root>."""
    top = ET.Element(root)
    for row in rows:
        element = ET.SubElement(top, item)
        for key, value in row.items():
            child = ET.SubElement(element, key)
            if value is not None:
                child.text = str(value).lower() if isinstance(value, bool) else str(value)
    return b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="unicode").encode()
