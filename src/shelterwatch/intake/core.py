"""Where an observation is decided: every report, check, door state and check-in link comes here.

A batch of observations (one, or a burst of residents' reports during an alert) is applied in
order over what the batch knows (`Batch`: its shelters, the alerts on, open cases, the evidence and
statuses): each observation is recorded, the status rule re-derives its shelter's status, and the
incident rule decides what happens to the door's case. Each observation is decided exactly as if
it had come alone after the ones before it, so its facts, seqs and derived rows are the same
whether it came alone or in a batch, and `shelterwatch rebuild` reproduces them. `load` reads what
a batch needs (one query per table), `write` stores what it decided, `service.submit_many` ties
them together under one lock of the log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import orjson

from shelterwatch.clock import as_utc
from shelterwatch.incidents import service as incidents
from shelterwatch.incidents.models import Incident
from shelterwatch.log import service as log
from shelterwatch.observations import quarantine as quarantines
from shelterwatch.observations import service as observations
from shelterwatch.observations.service import Evaluation
from shelterwatch.rules import incidents as rules
from shelterwatch.rules import status as status_rules
from shelterwatch.rules.geo import great_circle_m
from shelterwatch.vocabulary import FactKind, ObservationKind, Role, Status


@dataclass(frozen=True, slots=True)
class Place:
    """A shelter as the batch needs it: where it is and in which area."""

    id: int
    lat: float
    lon: float
    area_id: str


@dataclass(frozen=True, slots=True)
class Span:
    """An alert over an area, from its start to its end (None while it lasts)."""

    id: int
    area_id: str
    started_at: datetime
    ended_at: datetime | None


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


MADE_AT_WINDOW = timedelta(days=1)  # how far back a queued report may say it was made

@dataclass(frozen=True, slots=True)
class Item:
    """One observation to take in: what was seen of which shelter, by whom, from where."""

    shelter_id: int
    kind: ObservationKind
    role: Role
    reporter: str
    actor: str
    lat: float | None = None
    lon: float | None = None
    reason: str = ""
    private: Mapping[str, Any] | None = None
    made_at: datetime | None = None  # when the phone made it (queued offline), as it says
    source: str = ""  # a resident's network (sources/): what an operator may quarantine


@dataclass(frozen=True, slots=True)
class Recorded:
    """What the answer shows of an observation the batch recorded (its row is written as such)."""

    id: str
    kind: str
    routed_to: str | None


@dataclass(frozen=True, slots=True)
class StatusRow:
    """A status as the batch writes it; read by receipts as the stored row would be."""

    shelter_id: int
    status: str
    confidence: float
    reasons: str  # JSON, as `observations.reasons_json` writes it
    observation_ids: str
    evaluated_at: datetime
    seq: int


@dataclass
class Batch:
    """What a batch knows, kept current as each observation is applied in order."""

    next_seq: int
    head: tuple[int, str]
    shelters: dict[int, Place]
    spans: list[Span]  # alerts not over at the batch's time
    alerts: list[Span]  # alerts on at the batch's time, oldest first
    ancestors: dict[str, list[str]]
    open_incidents: dict[int, Incident]
    evidence: dict[int, list[status_rules.Evidence]]
    statuses: dict[int, status_rules.Identity]
    next_incident_id: int  # the next case's id: given here, in the log's order, not by the database
    quarantined: frozenset[str] = frozenset()  # sources whose evidence is set aside
    status_rows: dict[int, StatusRow] = field(default_factory=dict)
    new_status_ids: set[int] = field(default_factory=set)
    facts: list[log.NewFact] = field(default_factory=list)
    observation_rows: list[dict[str, Any]] = field(default_factory=list)
    opened: list[Incident] = field(default_factory=list)  # cases this batch opened, to be stored
    touched: dict[int, Incident] = field(default_factory=dict)  # every case it opened or changed

    def incidents_written(self) -> list[Incident]:
        """The cases this batch opened, joined or resolved, in their state after it."""
        return list(self.touched.values())

    def following(self, now: datetime) -> Batch:
        """What the next batch knows once this one is stored: the same shelters and alerts, the
        evidence the status rule can still use, the statuses and the cases still open."""
        at = as_utc(now)
        return Batch(
            next_seq=self.next_seq, head=self.head, shelters=self.shelters, spans=self.spans,
            alerts=self.alerts, ancestors=self.ancestors,
            open_incidents=dict(self.open_incidents),
            evidence={k: status_rules.carried(v, now=at) for k, v in self.evidence.items()},
            statuses=dict(self.statuses), next_incident_id=self.next_incident_id,
            quarantined=self.quarantined)


def take(state: Batch, item: Item, shelter: Place, tracking_id: str,
         now: datetime) -> Intake:
    distance = None
    if item.lat is not None and item.lon is not None:
        distance = round(great_circle_m(item.lat, item.lon, shelter.lat, shelter.lon), 1)
    alert = alert_over(state, shelter.area_id)
    incident = state.open_incidents.get(shelter.id)
    decision = rules.decide(kind=item.kind, role=item.role,
                            plausibility=status_rules.plausibility(distance),
                            alert_active=alert is not None, incident_open=incident is not None)
    routed = "owner" if decision.action is rules.Action.ROUTE_TO_OWNER else None
    hidden = {k: v for k, v in {**(item.private or {}), "lat": item.lat, "lon": item.lon}.items()
              if v is not None}
    payload, private = observations.recorded_fact(
        tracking_id=tracking_id, shelter_id=shelter.id, kind=item.kind, role=item.role,
        reporter=item.reporter, distance_m=distance, reason=item.reason,
        alert_id=alert.id if alert else None, routed_to=routed, private=hidden,
        source=item.source)
    observed = as_utc(now)
    if item.made_at is not None:
        # What the phone says of itself is bounded: never after the report arrived, and no
        # more than a day before it. The evidence counts from when it was made: a report queued
        # for an hour offline is an hour old (backdating can only weaken it, never strengthen).
        observed = min(max(as_utc(item.made_at), as_utc(now) - MADE_AT_WINDOW), as_utc(now))
        payload["made_at"] = observed.isoformat()
    seq = append(state, FactKind.OBSERVATION_RECORDED, item.actor, payload, private)
    row = {"id": tracking_id, "shelter_id": shelter.id, "kind": payload["kind"],
           "role": payload["role"], "reporter": item.reporter, "source": item.source,
           "distance_m": distance,
           "reason": item.reason, "at": observed, "alert_id": alert.id if alert else None,
           "incident_id": None, "routed_to": routed, "seq": seq}
    state.observation_rows.append(row)
    state.evidence.setdefault(shelter.id, []).append(status_rules.Evidence(
        id=tracking_id, kind=item.kind, role=item.role, at=observed, reporter=item.reporter,
        distance_m=distance, reason=item.reason,
        set_aside=quarantines.is_set_aside(item.role, item.source, state.quarantined)))
    evaluation = evaluate(state, shelter.id, seq, item.actor, now)
    incident = act(state, decision, row, shelter, alert, incident, item.actor, now)
    return Intake(Recorded(tracking_id, row["kind"], routed), shelter, evaluation, decision,
                  incident)


def append(state: Batch, kind: str, actor: str, payload: Mapping[str, Any],
            private: Mapping[str, Any] | None = None) -> int:
    state.facts.append(log.NewFact(kind, actor, payload, private))
    state.next_seq += 1
    return state.next_seq - 1


def evaluate(state: Batch, shelter_id: int, seq: int, actor: str, now: datetime) -> Evaluation:
    """The status rule over the batch's evidence of a shelter; a `status.changed` fact if moved."""
    derived = status_rules.derive(state.evidence[shelter_id], now=as_utc(now))
    before = state.statuses.get(shelter_id)
    previous = Status(before[0]) if before is not None else Status.UNKNOWN
    after = derived.identity
    changed = before is None or before != after
    row = StatusRow(shelter_id, derived.status.value, derived.confidence,
                    observations.reasons_json(derived.reasons),
                    orjson.dumps(derived.observation_ids).decode(), now, seq)
    if changed:
        append(state, FactKind.STATUS_CHANGED, actor,
                {**observations.status_fact(row), "previous": previous.value,
                 "trigger": "observation"})
    if before is None:
        state.new_status_ids.add(shelter_id)
    state.statuses[shelter_id] = after
    state.status_rows[shelter_id] = row
    return Evaluation(row, changed, previous)


def act(state: Batch, decision: rules.Decision, row: dict[str, Any],
         shelter: Place, alert: Any, incident: Incident | None, actor: str,
         now: datetime) -> Incident | None:
    """Carry out the incident rule's decision: open, join or resolve the door's case."""
    action = decision.action
    if action is rules.Action.OPEN:
        payload = incidents.opened_payload(
            incident_id=state.next_incident_id, shelter_id=shelter.id, area_id=shelter.area_id,
            alert_id=alert.id if alert else None, observation_id=row["id"])
        state.next_incident_id += 1
        append(state, FactKind.INCIDENT_OPENED, actor, payload)
        opened = Incident(id=payload["id"], tracking_id=row["id"], shelter_id=shelter.id,
                          area_id=shelter.area_id, alert_id=payload["alert_id"], opened_at=now,
                          opened_by=row["id"], me_too=0, last_report_at=now)
        state.opened.append(opened)
        state.touched[opened.id] = opened
        state.open_incidents[shelter.id] = opened
        row["incident_id"] = opened.id
        return opened
    if incident is None:
        return None
    if action in (rules.Action.JOIN, rules.Action.ATTACH):
        payload = incidents.joined_payload(incident, observation_id=row["id"], kind=row["kind"],
                                           me_too=action is rules.Action.JOIN)
        append(state, FactKind.INCIDENT_JOINED, actor, payload)
        incident.me_too = int(payload["me_too_count"])
        incident.last_report_at = now
        state.touched[incident.id] = incident
        row["incident_id"] = incident.id
        return incident
    if action is rules.Action.RESOLVE and decision.resolution is not None:
        payload = incidents.resolved_payload(incident, resolution=decision.resolution,
                                             observation_id=row["id"], now=now)
        append(state, FactKind.INCIDENT_RESOLVED, actor, payload)
        incident.resolved_at = now
        incident.resolution = payload["resolution"]
        incident.resolved_by = row["id"]
        incident.time_to_open_s = payload["time_to_open_s"]
        state.touched[incident.id] = incident
        row["incident_id"] = incident.id
        del state.open_incidents[shelter.id]
    return incident


def alert_over(state: Batch, area_id: str) -> Span | None:
    """The oldest alert on now over this area or any area above it."""
    if not state.alerts:
        return None
    covering = set(state.ancestors.get(area_id, [area_id]))
    return next((a for a in state.alerts if a.area_id in covering), None)
