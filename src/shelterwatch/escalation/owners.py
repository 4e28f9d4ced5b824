"""Outside an alert a locked door is its owner's to answer for (DESIGN §4.6).

The report itself is recorded with `routed_to = "owner"` by the intake; here the worker tells the
owner (one delivery per report and owner channel, the outbox's key), catches up on reports that
arrived while no worker ran, and keeps the owners' record: every report routed to them, and every
case opened at their shelters, counts against them until they fix the door.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shelterwatch.escalation import notices
from shelterwatch.incidents.models import Incident
from shelterwatch.keyholders import service as keyholders
from shelterwatch.keyholders.models import Owner, OwnerShelter
from shelterwatch.observations.models import Observation
from shelterwatch.outbox import service as outbox
from shelterwatch.vocabulary import Noun, Subject

ACTOR = "worker"
STEP = "notify_owner"
CATCH_UP = timedelta(days=1)  # how far back a starting worker looks for unrouted reports


def route(session: Session, observation: Mapping[str, Any], *, now: datetime,
          actor: str = ACTOR) -> int:
    """Queue the owner's notifications for one routed report (an `observation.recorded` payload).

    Returns how many deliveries were queued; asking again for the same report queues nothing.
    """
    if observation.get("routed_to") != "owner":
        return 0
    shelter_id, kind, ident = int(observation["shelter_id"]), observation["kind"], observation["id"]
    queued = 0
    for person in keyholders.owner_addresses(session, shelter_id):
        subject = str(Subject(Noun.OBSERVATION, str(ident)))
        if outbox.find(session, subject=subject, step=STEP, recipient=person.recipient):
            continue
        notice = notices.owner_report(shelter_id=shelter_id, kind=kind, ident=str(ident))
        outbox.enqueue(session, outbox.Outgoing(
            subject=subject, step=STEP, recipient=person.recipient, channel=person.channel,
            address=person.address, title=notice.title, body=notice.body,
            data={"observation": ident, "shelter_id": shelter_id, "event": STEP}),
            now=now, actor=actor)
        queued += 1
    return queued


def catch_up(session: Session, *, now: datetime, actor: str = ACTOR) -> int:
    """Route the reports of the last day that reached no owner (they came while no worker ran)."""
    rows = session.execute(
        select(Observation).where(Observation.routed_to == "owner",
                                  Observation.at >= now - CATCH_UP)
        .order_by(Observation.seq)
    ).scalars().all()
    return sum(route(session, {"id": r.id, "shelter_id": r.shelter_id, "kind": r.kind,
                               "routed_to": r.routed_to}, now=now, actor=actor) for r in rows)


@dataclass(frozen=True, slots=True)
class Standing:
    """One owner's record: what residents reported against their shelters."""

    owner_id: int
    name: str
    shelter_ids: list[int]
    reports_against: int  # reports routed to them outside alerts
    incidents: int  # locked-door cases at their shelters during alerts


def standings(session: Session) -> list[Standing]:
    """Every owner with their record, worst first."""
    owned: dict[int, list[int]] = {}
    for owner_id, shelter_id in session.execute(
            select(OwnerShelter.owner_id, OwnerShelter.shelter_id)).all():
        owned.setdefault(owner_id, []).append(shelter_id)
    shelters = {s for ids in owned.values() for s in ids}
    reports = dict(session.execute(
        select(Observation.shelter_id, func.count())
        .where(Observation.routed_to == "owner", Observation.shelter_id.in_(shelters))
        .group_by(Observation.shelter_id)).all()) if shelters else {}
    cases = dict(session.execute(
        select(Incident.shelter_id, func.count()).where(Incident.shelter_id.in_(shelters))
        .group_by(Incident.shelter_id)).all()) if shelters else {}
    result = [Standing(o.id, o.name, sorted(owned.get(o.id, [])),
                       sum(int(reports.get(s, 0)) for s in owned.get(o.id, [])),
                       sum(int(cases.get(s, 0)) for s in owned.get(o.id, [])))
              for o in session.execute(select(Owner).order_by(Owner.id)).scalars()]
    return sorted(result, key=lambda s: (-s.reports_against - s.incidents, s.owner_id))
