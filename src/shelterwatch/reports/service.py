"""Residents' reports: the receipt that says what happens next, and the public timeline.

A resident standing at a locked door during an alert needs two things from the answer: a number to
follow the case by, and to know at once that they should not wait there. The receipt says both, in
Ukrainian and English.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from shelterwatch.clock import local_iso
from shelterwatch.errors import NotFound
from shelterwatch.incidents import service as incidents
from shelterwatch.intake import service as intake
from shelterwatch.intake.core import Intake
from shelterwatch.log import chain
from shelterwatch.log.models import Fact
from shelterwatch.messages.catalogue import LANGS, Renderer, both
from shelterwatch.observations import service as observations
from shelterwatch.observations.models import Observation, PlaceReport
from shelterwatch.reports.schemas import ReportIn
from shelterwatch.rules import tracking
from shelterwatch.rules.incidents import Action
from shelterwatch.shelters.models import Shelter
from shelterwatch.vocabulary import FactKind, ObservationKind, Role


def intake_fields(report: ReportIn, *, reporter: str, source: str = "") -> dict[str, Any]:
    """What the intake takes from a resident's report: anonymous, the device id kept private;
    `reporter` is the witness it counts as (rules/witness.py: an issued id, else its network),
    `source` the network it came from."""
    private = {"device_id": report.device_id, "contact": report.contact, "note": report.note}
    return {"shelter_id": report.shelter_id, "kind": ObservationKind(report.kind),
            "role": Role.RESIDENT,
            "reporter": reporter, "source": source or reporter,
            "actor": Role.RESIDENT.value, "lat": report.lat, "lon": report.lon,
            "reason": report.reason or "", "private": {k: v for k, v in private.items() if v},
            "made_at": report.made_at}


def submit(session: Session, *, report: ReportIn, reporter: str, now: datetime,
           tracking_prefix: str, source: str = "") -> Intake:
    """Take in one resident's report in the caller's transaction (Open311 comes this way)."""
    return intake.submit(session, now=now, tracking_prefix=tracking_prefix,
                         **intake_fields(report, reporter=reporter, source=source))


def next_steps(result: Intake) -> dict[str, str]:
    """What happens now, for the person who sent it. Only what is true whatever the other
    shelters' statuses: the list beside the receipt shows each one's status in words, and
    "open" only where it is."""
    action, incident = result.decision.action, result.incident
    params: dict[str, Any] = {"tracking_id": incident.tracking_id if incident else ""}
    if action is Action.OPEN:
        key = "receipt.opened"
    elif action is Action.JOIN and incident is not None:
        key, params["reports"] = "receipt.joined", incident.me_too + 1
    elif action is Action.ATTACH:
        key = "receipt.attached"
    elif action is Action.RESOLVE and incident is not None:
        key, params["resolution"] = "receipt.resolved", incident.resolution
    elif action is Action.ROUTE_TO_OWNER:
        key = "receipt.to_owner"
    elif result.observation.kind in (ObservationKind.LOCKED.value, ObservationKind.REFUSED.value):
        key = "receipt.too_far"
    else:
        key = "receipt.counted"
    out: dict[str, str] = {}
    for lang in LANGS:
        words = Renderer(lang)
        out[lang] = words(key, {**params, "leave": words("receipt.leave")})
    return out


def receipt(result: Intake) -> dict[str, Any]:
    """The 201 body: tracking id, the shelter's status now and what happens next."""
    status = observations.public_status(result.evaluation.row)
    incident = result.incident
    return {
        "tracking_id": result.observation.id,
        "shelter_id": result.shelter.id,
        "kind": result.observation.kind,
        "status": status["status"],
        "status_explanation": status["explanation"],
        "incident": ({"tracking_id": incident.tracking_id, "me_too": incident.me_too,
                      "state": "open" if incident.resolved_at is None else "resolved"}
                     if incident else None),
        "routed_to": result.observation.routed_to,
        "next_steps": next_steps(result),
        "follow": f"/v1/reports/{result.observation.id}",
    }


def _entry(row: Observation, own_id: str) -> dict[str, Any]:
    mine = row.id == own_id
    return {"at": chain.format_at(row.at), "event": "observation", "kind": row.kind,
            "role": row.role, "yours": mine,
            "text": both("timeline.yours" if mine else "timeline.observed",
                         {"role": row.role, "kind": row.kind})}


def timeline(session: Session, *, tracking_id: str, zone: str = "Europe/Kyiv") -> dict[str, Any]:
    """A report's public story: the shelter, the case it belongs to, and what happened since.

    Times are UTC (`at`) and as read on the clocks where the shelter is (`at_local`).
    """
    canonical = tracking.parse(tracking_id)
    row = observations.get(session, canonical) if canonical else None
    if row is None:
        place = session.get(PlaceReport, canonical) if canonical else None
        if place is not None:
            return place_timeline(place, zone=zone)
        raise NotFound(f"no report has tracking id {tracking_id!r}; tracking ids look like "
                       "KV-7F3K-2Q (letters and digits, dashes and case do not matter)")
    shelter = session.get(Shelter, row.shelter_id)
    incident = incidents.get_or_raise(session, row.incident_id) if row.incident_id else None
    related = observations.list_for_incident(session, incident.id) if incident else [row]
    events = [_entry(r, row.id) for r in related]
    queued = _made_at(session, row.seq)
    if queued is not None:
        # The observation counts from when it was made; the story also says when it arrived.
        mine = events[[r.id for r in related].index(row.id)]
        mine["made_at"], mine["at"] = queued
    if incident is not None:
        events.append({"at": chain.format_at(incident.opened_at), "event": FactKind.INCIDENT_OPENED,
                       "text": both("timeline.opened", {"tracking_id": incident.tracking_id})})
        if incident.resolved_at is not None:
            events.append({"at": chain.format_at(incident.resolved_at),
                           "event": FactKind.INCIDENT_RESOLVED, "resolution": incident.resolution,
                           "text": both("timeline.closed",
                                        {"resolution": incident.resolution})})
    elif row.routed_to:
        events.append({"at": chain.format_at(row.at), "event": "routed",
                       "text": both("timeline.routed")})
    events.sort(key=lambda e: (e["at"], e["event"] != "observation"))
    for event in events:
        event["at_local"] = local_iso(datetime.fromisoformat(event["at"]), zone)
    return {
        "tracking_id": row.id,
        "reported_at": chain.format_at(row.at),
        "reported_at_local": local_iso(row.at, zone),
        "kind": row.kind,
        "shelter": ({"id": shelter.id, "name": shelter.name, "address": shelter.address}
                    if shelter else {"id": row.shelter_id}),
        "status": observations.public_status(observations.current(session, row.shelter_id),
                                             row.shelter_id),
        "incident": incidents.public_fields(incident) if incident else None,
        "routed_to": row.routed_to,
        "timeline": events,
    }


def place_timeline(place: PlaceReport, *, zone: str = "Europe/Kyiv") -> dict[str, Any]:
    """A "no shelter near here" report's story: it is about a place, so it has no door and no
    case; it is kept for the coverage analysis, and the answer says so."""
    at = chain.format_at(place.at)
    return {
        "tracking_id": place.id, "reported_at": at, "reported_at_local": local_iso(place.at, zone),
        "kind": "no_shelter_nearby", "shelter": None, "status": None, "incident": None,
        "routed_to": None,
        # Rounded to about 100 m when recorded; the precise position is private.
        "place": {"lat": place.lat, "lon": place.lon},
        "timeline": [{"at": at, "at_local": local_iso(place.at, zone), "event": "place.recorded",
                      "yours": True,
                      "text": both("timeline.no_shelter_nearby")}],
    }


def _made_at(session: Session, seq: int) -> tuple[str, str] | None:
    """When the phone made this report, if it said, and when it arrived (its fact's time): a
    report queued offline arrives later."""
    fact = session.execute(select(Fact.payload, Fact.at).where(Fact.seq == seq)).first()
    made = orjson.loads(fact.payload).get("made_at") if fact and fact.payload else None
    if fact is None or not made:
        return None
    return chain.format_at(datetime.fromisoformat(str(made))), chain.format_at(fact.at)
