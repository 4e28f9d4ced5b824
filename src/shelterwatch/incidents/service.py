"""Locked-door cases: their facts' payloads, reads, resolving, and replaying them from the log.

A case is opened and joined where observations are decided (`shelterwatch.intake`), with the
payloads built here; `resolve` ends a case by someone's decision (an operator, an ended alert).
Each `incident.*` payload carries everything needed to rebuild the table from the log.
Callers own the transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shelterwatch.errors import Conflict, NotFound
from shelterwatch.incidents.models import Incident
from shelterwatch.log import chain
from shelterwatch.log import service as log
from shelterwatch.observations.models import Observation
from shelterwatch.rules.incidents import resolved_payload
from shelterwatch.vocabulary import FactKind, Resolution


def get_or_raise(session: Session, incident_id: int) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id} does not exist")
    return incident


def list_(session: Session, *, state: str = "open", limit: int = 200) -> Sequence[Incident]:
    """Incidents newest first; `state` is open, resolved or all."""
    query = select(Incident).order_by(Incident.opened_at.desc(), Incident.id.desc()).limit(limit)
    if state == "open":
        query = query.where(Incident.resolved_at.is_(None))
    elif state == "resolved":
        query = query.where(Incident.resolved_at.is_not(None))
    return session.execute(query).scalars().all()


def public_fields(incident: Incident) -> dict[str, Any]:
    """The incident as anyone following its tracking id may see it."""
    return {
        "id": incident.id, "tracking_id": incident.tracking_id,
        "shelter_id": incident.shelter_id, "area_id": incident.area_id,
        "alert_id": incident.alert_id, "opened_at": chain.format_at(incident.opened_at),
        "me_too": incident.me_too, "state": "open" if incident.resolved_at is None else "resolved",
        "resolved_at": chain.format_at(incident.resolved_at) if incident.resolved_at else None,
        "resolution": incident.resolution, "time_to_open_s": incident.time_to_open_s,
    }


def _set_observation(session: Session, observation_id: str, incident_id: int) -> None:
    session.execute(update(Observation).where(Observation.id == observation_id)
                    .values(incident_id=incident_id))


def apply_opened(session: Session, payload: Mapping[str, Any], at: datetime) -> Incident:
    incident = Incident(id=int(payload["id"]), tracking_id=payload["tracking_id"],
                        shelter_id=int(payload["shelter_id"]), area_id=payload["area_id"],
                        alert_id=payload.get("alert_id"), opened_at=at,
                        opened_by=payload["observation_id"], me_too=0, last_report_at=at)
    session.add(incident)
    session.flush()
    _set_observation(session, payload["observation_id"], incident.id)
    return incident


def apply_joined(session: Session, payload: Mapping[str, Any], at: datetime) -> Incident:
    incident = get_or_raise(session, int(payload["id"]))
    incident.me_too = int(payload["me_too_count"])
    incident.last_report_at = at
    _set_observation(session, payload["observation_id"], incident.id)
    session.flush()
    return incident


def resolve(session: Session, *, incident: Incident, resolution: Resolution,
            observation_id: str | None, actor: str, now: datetime) -> Incident:
    """End a case; time-to-open runs from the first report to now."""
    if incident.resolved_at is not None:
        raise Conflict(f"incident {incident.tracking_id} is already resolved")
    payload = resolved_payload(incident, resolution=resolution, observation_id=observation_id,
                               now=now)
    log.append(session, kind=FactKind.INCIDENT_RESOLVED, actor=actor, payload=payload, now=now)
    return apply_resolved(session, payload, now)


def apply_resolved(session: Session, payload: Mapping[str, Any], at: datetime) -> Incident:
    incident = get_or_raise(session, int(payload["id"]))
    incident.resolved_at = at
    incident.resolution = payload["resolution"]
    incident.resolved_by = payload.get("observation_id")
    incident.time_to_open_s = payload.get("time_to_open_s")
    if payload.get("observation_id"):
        _set_observation(session, payload["observation_id"], incident.id)
    session.flush()
    return incident


APPLY: dict[str, Callable[[Session, Mapping[str, Any], datetime], Incident]] = {
    FactKind.INCIDENT_OPENED: apply_opened, FactKind.INCIDENT_JOINED: apply_joined,
    FactKind.INCIDENT_RESOLVED: apply_resolved}
