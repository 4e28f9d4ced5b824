"""Taking in one observation: record it, re-derive the status, and act on the door's case.

Residents' reports and role-holders' checks both come through `submit`, under the log's write lock
so two reports of the same door cannot both believe they are the first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shelterwatch.alerts.models import Alert
from shelterwatch.areas.models import Area
from shelterwatch.clock import as_utc
from shelterwatch.errors import InvalidInput
from shelterwatch.incidents import service as incidents
from shelterwatch.incidents.models import Incident
from shelterwatch.log import service as log
from shelterwatch.observations import service as observations
from shelterwatch.observations.models import Observation
from shelterwatch.observations.service import Evaluation
from shelterwatch.rules import incidents as rules
from shelterwatch.rules import status as status_rules
from shelterwatch.rules.ranking import great_circle_m
from shelterwatch.shelters.models import Shelter
from shelterwatch.vocabulary import ObservationKind, Role


class ObservationView(Protocol):
    """What an answer shows of the observation taken in (a stored row, or a batch's record)."""

    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def routed_to(self) -> str | None: ...


class ShelterView(Protocol):
    @property
    def id(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Intake:
    """What one observation did."""

    observation: ObservationView
    shelter: ShelterView
    evaluation: Evaluation
    decision: rules.Decision
    incident: Incident | None


def active_alert(session: Session, *, area_id: str, now: datetime) -> Alert | None:
    """The alert on now over this area or any area above it (oldest first), if any."""
    covering: list[str] = []
    current: str | None = area_id
    while current is not None and current not in covering:  # a few primary-key look-ups
        covering.append(current)
        area = session.get(Area, current)
        current = area.parent_id if area is not None else None
    at = as_utc(now)
    return session.execute(
        select(Alert).where(Alert.area_id.in_(covering), Alert.started_at <= at,
                            or_(Alert.ended_at.is_(None), Alert.ended_at > at))
        .order_by(Alert.started_at, Alert.id)
    ).scalars().first()


def submit(session: Session, *, shelter_id: int, kind: ObservationKind, role: Role,
           reporter: str, actor: str, now: datetime, tracking_prefix: str,
           lat: float | None = None, lon: float | None = None, reason: str = "",
           private: Mapping[str, Any] | None = None) -> Intake:
    """Record an observation and carry out what the incident rule decides."""
    log.lock(session)
    shelter = session.get(Shelter, shelter_id)
    if shelter is None:
        raise InvalidInput(f"shelter_id: shelter {shelter_id} does not exist")
    distance = None
    if lat is not None and lon is not None:
        distance = round(great_circle_m(lat, lon, shelter.lat, shelter.lon), 1)
    alert = active_alert(session, area_id=shelter.area_id, now=now)
    incident = incidents.open_for(session, shelter_id)
    decision = rules.decide(kind=kind, role=role,
                            plausibility=status_rules.plausibility(distance),
                            alert_active=alert is not None, incident_open=incident is not None)
    routed = "owner" if decision.action is rules.Action.ROUTE_TO_OWNER else None
    tracking_id = observations.new_tracking_id(session, prefix=tracking_prefix)
    hidden = {k: v for k, v in {**(private or {}), "lat": lat, "lon": lon}.items()
              if v is not None}
    observation = observations.record(
        session, tracking_id=tracking_id, shelter_id=shelter_id, kind=kind, role=role,
        reporter=reporter, distance_m=distance, reason=reason,
        alert_id=alert.id if alert else None, routed_to=routed, actor=actor, now=now,
        private=hidden)
    evaluation = observations.evaluate(session, shelter_id=shelter_id, now=now,
                                       seq=observation.seq, actor=actor)
    incident = _act(session, decision, observation, shelter, alert, incident, actor, now)
    return Intake(observation, shelter, evaluation, decision, incident)


def _act(session: Session, decision: rules.Decision, observation: Observation,
         shelter: Shelter, alert: Alert | None, incident: Incident | None, actor: str,
         now: datetime) -> Incident | None:
    action = decision.action
    if action is rules.Action.OPEN:
        return incidents.open(session, shelter_id=shelter.id, area_id=shelter.area_id,
                              alert_id=alert.id if alert else None,
                              observation_id=observation.id, actor=actor, now=now)
    if incident is None:
        return None
    if action in (rules.Action.JOIN, rules.Action.ATTACH):
        return incidents.join(session, incident=incident, observation_id=observation.id,
                              kind=observation.kind, me_too=action is rules.Action.JOIN,
                              actor=actor, now=now)
    if action is rules.Action.RESOLVE and decision.resolution is not None:
        return incidents.resolve(session, incident=incident, resolution=decision.resolution,
                                 observation_id=observation.id, actor=actor, now=now)
    return incident
