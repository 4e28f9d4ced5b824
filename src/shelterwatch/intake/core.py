"""Where an observation is decided: every report, check, door state and check-in link comes here.

`decide` takes what is known (`Known`: the batch's shelters, the alerts on, open cases, the
evidence and statuses) and the observations in order, and returns what they did (`Outcome`): the
facts to append, the rows to write, the cases opened or changed, one result per observation.
Each observation is recorded, the status rule re-derives its shelter's status, and the incident
rule decides what happens to the door's case, exactly as if it had come alone after the ones
before it — so facts, seqs and rows are the same whether it came alone or in a batch, and
`shelterwatch rebuild` reproduces them. Plain values in, plain values out, no I/O: `load` reads
what is known, `write` stores the outcome, `service.submit_many` ties them together under one
lock of the log.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import orjson

from shelterwatch.rules import incidents as rules
from shelterwatch.rules import status as status_rules
from shelterwatch.rules.geo import great_circle_m
from shelterwatch.rules.status_record import is_set_aside, reasons_json, status_fact
from shelterwatch.vocabulary import FactKind, ObservationKind, Role, Status, as_utc

MADE_AT_WINDOW = timedelta(days=1)  # how far back a queued report may say it was made


@dataclass(frozen=True, slots=True)
class Place:
    """A shelter as the intake needs it: where it is and in which area."""

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


@dataclass(frozen=True, slots=True)
class Case:
    """A locked-door case as the intake knows it: the incident row's values."""

    id: int
    tracking_id: str
    shelter_id: int
    area_id: str
    alert_id: int | None
    opened_at: datetime
    opened_by: str
    me_too: int
    last_report_at: datetime
    resolved_at: datetime | None = None
    resolution: str | None = None
    resolved_by: str | None = None
    time_to_open_s: int | None = None


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
class Draft:
    """A fact to append, in order; the log gives it its seq, time and hash."""

    kind: FactKind
    actor: str
    payload: Mapping[str, Any]
    private: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Recorded:
    """What the answer shows of an observation the intake recorded."""

    id: str
    kind: str
    routed_to: str | None


@dataclass(frozen=True, slots=True)
class StatusRow:
    """A status as the intake writes it; read by receipts as the stored row would be."""

    shelter_id: int
    status: str
    confidence: float
    reasons: str  # JSON, as `status_record.reasons_json` writes it
    observation_ids: str
    evaluated_at: datetime
    seq: int


@dataclass(frozen=True, slots=True)
class Evaluation:
    """A shelter's status after an observation, and whether it changed."""

    row: StatusRow
    changed: bool
    previous: Status


@dataclass(frozen=True, slots=True)
class Intake:
    """What one observation did."""

    observation: Recorded
    shelter: Place
    evaluation: Evaluation
    decision: rules.Decision
    incident: Case | None


@dataclass(frozen=True, slots=True)
class NoSuchShelter:
    """An observation about a shelter the registry does not hold: refused alone."""

    shelter_id: int


@dataclass
class Known:
    """What is known before a batch: the facts' next seq, and of the batch's shelters what the
    rules read. `decide` never changes it; the outcome carries what is known after."""

    next_seq: int
    shelters: dict[int, Place]
    alerts: list[Span]  # alerts on at the batch's time, oldest first
    ancestors: dict[str, list[str]]
    open_cases: dict[int, Case]  # by shelter
    evidence: dict[int, list[status_rules.Evidence]]
    statuses: dict[int, status_rules.Identity]
    next_incident_id: int  # the next case's id: given here, in the log's order, not by the database
    quarantined: frozenset[str] = frozenset()  # sources whose evidence is set aside
    spans: list[Span] = field(default_factory=list)  # alerts not over (a memo keeps them)

    def following(self, now: datetime) -> Known:
        """What the next batch knows once this one is stored: the same shelters and alerts, the
        evidence the status rule can still use, the statuses and the cases still open."""
        at = as_utc(now)
        return replace(self, shelters=dict(self.shelters), open_cases=dict(self.open_cases),
                       evidence={k: status_rules.carried(v, now=at)
                                 for k, v in self.evidence.items()},
                       statuses=dict(self.statuses))


@dataclass
class Outcome:
    """What a batch did: the facts in order, the rows to write, one result per item."""

    facts: list[Draft]
    observations: list[dict[str, Any]]
    statuses: dict[int, StatusRow]  # by shelter, the last of each
    new_statuses: set[int]  # shelters with no stored status before
    opened: list[Case]  # cases to insert, in their state after the batch
    changed: list[Case]  # cases already stored, in their state after the batch
    results: list[Intake | NoSuchShelter]
    after: Known  # what is known once the outcome is stored


def decide(known: Known, items: Sequence[Item], *, now: datetime,
           ids: Iterator[str]) -> Outcome:
    """Decide each observation in order over what is known; `ids` gives each recorded
    observation its tracking id (drawn only for those about a known shelter)."""
    state = _State(replace(known, open_cases=dict(known.open_cases),
                           evidence={k: list(v) for k, v in known.evidence.items()},
                           statuses=dict(known.statuses)), as_utc(now))
    stored = {c.id for c in known.open_cases.values()}
    results: list[Intake | NoSuchShelter] = []
    for item in items:
        shelter = known.shelters.get(item.shelter_id)
        results.append(NoSuchShelter(item.shelter_id) if shelter is None
                       else state.take(item, shelter, next(ids)))
    return Outcome(
        facts=state.facts, observations=state.rows, statuses=state.status_rows,
        new_statuses=state.new_statuses,
        opened=[c for i, c in state.cases.items() if i not in stored],
        changed=[c for i, c in state.cases.items() if i in stored],
        results=results, after=state.known)


class _State:
    """A batch in progress: what is known so far, and what it wrote."""

    def __init__(self, known: Known, now: datetime) -> None:
        self.known, self.now = known, now
        self.facts: list[Draft] = []
        self.rows: list[dict[str, Any]] = []
        self.status_rows: dict[int, StatusRow] = {}
        self.new_statuses: set[int] = set()
        self.cases: dict[int, Case] = {}  # every case opened or changed, by id

    def append(self, draft: Draft) -> int:
        self.facts.append(draft)
        self.known.next_seq += 1
        return self.known.next_seq - 1

    def take(self, item: Item, shelter: Place, tracking_id: str) -> Intake:
        distance = None
        if item.lat is not None and item.lon is not None:
            distance = round(great_circle_m(item.lat, item.lon, shelter.lat, shelter.lon), 1)
        alert = alert_over(self.known, shelter.area_id)
        case = self.known.open_cases.get(shelter.id)
        decision = rules.decide(kind=item.kind, role=item.role,
                                plausibility=status_rules.plausibility(distance),
                                alert_active=alert is not None, incident_open=case is not None)
        routed = "owner" if decision.action is rules.Action.ROUTE_TO_OWNER else None
        payload, private = recorded_fact(item, tracking_id, shelter.id, distance,
                                         alert.id if alert else None, routed)
        observed = self.now
        if item.made_at is not None:
            # What the phone says of itself is bounded: never after the report arrived, and no
            # more than a day before it. The evidence counts from when it was made: a report
            # queued for an hour offline is an hour old (backdating can only weaken it).
            observed = min(max(as_utc(item.made_at), self.now - MADE_AT_WINDOW), self.now)
            payload["made_at"] = observed.isoformat()
        seq = self.append(Draft(FactKind.OBSERVATION_RECORDED, item.actor, payload, private))
        row = {"id": tracking_id, "shelter_id": shelter.id, "kind": payload["kind"],
               "role": payload["role"], "reporter": item.reporter, "source": item.source,
               "distance_m": distance, "reason": item.reason, "at": observed,
               "alert_id": alert.id if alert else None, "incident_id": None,
               "routed_to": routed, "seq": seq}
        self.rows.append(row)
        self.known.evidence.setdefault(shelter.id, []).append(status_rules.Evidence(
            id=tracking_id, kind=item.kind, role=item.role, at=observed, reporter=item.reporter,
            distance_m=distance, reason=item.reason,
            set_aside=is_set_aside(item.role, item.source, self.known.quarantined)))
        evaluation = self.evaluate(shelter.id, seq, item.actor)
        case = self.act(decision, row, shelter, alert, case, item.actor)
        return Intake(Recorded(tracking_id, row["kind"], routed), shelter, evaluation, decision,
                      case)

    def evaluate(self, shelter_id: int, seq: int, actor: str) -> Evaluation:
        """The status rule over the shelter's evidence; a `status.changed` fact if it moved."""
        derived = status_rules.derive(self.known.evidence[shelter_id], now=self.now)
        before = self.known.statuses.get(shelter_id)
        previous = Status(before[0]) if before is not None else Status.UNKNOWN
        after = derived.identity
        changed = before is None or before != after
        row = StatusRow(shelter_id, derived.status.value, derived.confidence,
                        reasons_json(derived.reasons),
                        orjson.dumps(derived.observation_ids).decode(), self.now, seq)
        if changed:
            self.append(Draft(FactKind.STATUS_CHANGED, actor,
                              {**status_fact(row), "previous": previous.value,
                               "trigger": "observation"}))
        if before is None:
            self.new_statuses.add(shelter_id)
        self.known.statuses[shelter_id] = after
        self.status_rows[shelter_id] = row
        return Evaluation(row, changed, previous)

    def act(self, decision: rules.Decision, row: dict[str, Any], shelter: Place,
            alert: Span | None, case: Case | None, actor: str) -> Case | None:
        """Carry out the incident rule's decision: open, join or resolve the door's case."""
        action, now = decision.action, self.now
        if action is rules.Action.OPEN:
            payload = rules.opened_payload(
                incident_id=self.known.next_incident_id, shelter_id=shelter.id,
                area_id=shelter.area_id, alert_id=alert.id if alert else None,
                observation_id=row["id"])
            self.known.next_incident_id += 1
            self.append(Draft(FactKind.INCIDENT_OPENED, actor, payload))
            case = Case(id=payload["id"], tracking_id=row["id"], shelter_id=shelter.id,
                        area_id=shelter.area_id, alert_id=payload["alert_id"], opened_at=now,
                        opened_by=row["id"], me_too=0, last_report_at=now)
        elif case is None:
            return None
        elif action in (rules.Action.JOIN, rules.Action.ATTACH):
            payload = rules.joined_payload(case, observation_id=row["id"], kind=row["kind"],
                                           me_too=action is rules.Action.JOIN)
            self.append(Draft(FactKind.INCIDENT_JOINED, actor, payload))
            case = replace(case, me_too=int(payload["me_too_count"]), last_report_at=now)
        elif action is rules.Action.RESOLVE and decision.resolution is not None:
            payload = rules.resolved_payload(case, resolution=decision.resolution,
                                             observation_id=row["id"], now=now)
            self.append(Draft(FactKind.INCIDENT_RESOLVED, actor, payload))
            case = replace(case, resolved_at=now, resolution=payload["resolution"],
                           resolved_by=row["id"], time_to_open_s=payload["time_to_open_s"])
        else:
            return case
        row["incident_id"] = case.id
        self.cases[case.id] = case
        if case.resolved_at is None:
            self.known.open_cases[shelter.id] = case
        else:
            del self.known.open_cases[shelter.id]
        return case


def recorded_fact(item: Item, tracking_id: str, shelter_id: int, distance_m: float | None,
                  alert_id: int | None, routed_to: str | None,
                  ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The public payload and the private part of `observation.recorded`."""
    payload = {"id": tracking_id, "shelter_id": shelter_id, "kind": item.kind.value,
               "role": item.role.value, "reason": item.reason, "alert_id": alert_id,
               "routed_to": routed_to,
               "plausibility": round(status_rules.plausibility(distance_m), 2)}
    where = {"lat": item.lat, "lon": item.lon}
    hidden = {k: v for k, v in {**(item.private or {}), **where}.items() if v is not None}
    hidden |= {"reporter": item.reporter, "distance_m": distance_m}
    if item.source:
        hidden["source"] = item.source
    return payload, hidden


def alert_over(known: Known, area_id: str) -> Span | None:
    """The oldest alert on now over this area or any area above it."""
    if not known.alerts:
        return None
    covering = set(known.ancestors.get(area_id, [area_id]))
    return next((a for a in known.alerts if a.area_id in covering), None)
