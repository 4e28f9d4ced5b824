"""Taking in many observations in one transaction: the same decisions as `intake`, fewer trips.

A burst of residents' reports during an alert is the write hot path. `intake.submit` reads and
writes each report's rows one statement at a time; here a whole batch shares one lock of the log,
one look-up per table (shelters, active alerts, open incidents, statuses, recent evidence, taken
tracking ids) and one multi-row insert per table. Each observation is still decided, evaluated and
logged in order, exactly as if it had come alone after the ones before it: its facts, seqs and
derived rows are what `intake.submit` would have written, so `shelterwatch rebuild` reproduces
them. A report that is invalid on its own (an unknown shelter) gets its own error and the others
go on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shelterwatch.clock import as_utc
from shelterwatch.errors import InvalidInput, ShelterwatchError
from shelterwatch.incidents import batch_reads as reads
from shelterwatch.incidents import service as incidents
from shelterwatch.incidents.batch_memo import Memo, Place, Span
from shelterwatch.incidents.batch_sql import (
    FACTS,
    HEAD,
    INSERT_OBSERVATIONS,
    INSERT_STATUSES,
    UPDATE_STATUS,
    pipelined,
)
from shelterwatch.incidents.intake import Intake
from shelterwatch.incidents.models import Incident
from shelterwatch.log import service as log
from shelterwatch.observations import service as observations
from shelterwatch.observations.service import Evaluation
from shelterwatch.rules import incidents as rules
from shelterwatch.rules import status as status_rules
from shelterwatch.rules.ranking import great_circle_m
from shelterwatch.vocabulary import FactKind, ObservationKind, Role, Status


@dataclass(frozen=True, slots=True)
class Item:
    """One observation to take in, as `intake.submit` takes it."""

    shelter_id: int
    kind: ObservationKind
    role: Role
    reporter: str
    actor: str
    lat: float | None = None
    lon: float | None = None
    reason: str = ""
    private: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class _Recorded:
    """What the answer shows of an observation the batch recorded (its row is written as such)."""

    id: str
    kind: str
    routed_to: str | None


@dataclass(frozen=True, slots=True)
class _StatusRow:
    """A status as the batch writes it; read by receipts as the stored row would be."""

    shelter_id: int
    status: str
    confidence: float
    explanation_uk: str
    explanation_en: str
    observation_ids: str
    evaluated_at: datetime
    seq: int


@dataclass
class _State:
    """What the batch knows, kept current as each observation is applied in order."""

    next_seq: int
    head: tuple[int, str]
    shelters: dict[int, Place]
    spans: list[Span]  # alerts not over at the batch's time
    alerts: list[Span]  # alerts on at the batch's time, oldest first
    ancestors: dict[str, list[str]]
    open_incidents: dict[int, Incident]
    evidence: dict[int, list[status_rules.Evidence]]
    statuses: dict[int, tuple[str, str, float]]
    status_rows: dict[int, _StatusRow] = field(default_factory=dict)
    new_status_ids: set[int] = field(default_factory=set)
    facts: list[log.NewFact] = field(default_factory=list)
    observation_rows: list[dict[str, Any]] = field(default_factory=list)
    next_incident_id: int | None = None


Writes = list[tuple[Any, list[dict[str, Any]]]]


def submit_many(session: Session, items: Sequence[Item], *, now: datetime,
                tracking_prefix: str, memo: Memo | None = None,
                also: Callable[[list[Intake | ShelterwatchError]], Writes] | None = None,
                ) -> list[Intake | ShelterwatchError]:
    """Record each observation in order and act on its door's case; the caller commits.

    Returns, per item, what it did or the error that refused it alone. Any other failure raises
    and leaves the transaction for the caller to roll back. With a `memo`, the caller calls its
    `settle` after the commit and its `forget` when the transaction fails. `also` turns the
    results into more rows (statement, rows) the caller wants written after the batch's own, in
    the same round trip where the database allows (the writer's stored receipts).
    """
    session.flush()
    conn = session.connection()
    candidates = reads.candidates(len(items), tracking_prefix)
    head = conn.execute(HEAD, {"ids": candidates}).first()
    if head is None:  # a fresh log: let the log make its head row
        log.lock(session)
        head = conn.execute(HEAD, {"ids": candidates}).one()
    ids = sorted({i.shelter_id for i in items})
    if memo is None:
        memo = Memo()
    elif not memo.holds(head.seq, now):
        memo.forget()
    known = [i for i in ids if i in memo.places]
    unknown = [i for i in ids if i not in memo.places]
    shelters = {i: memo.places[i] for i in known}
    evidence = {i: list(memo.evidence.get(i, ())) for i in known}
    statuses = {i: memo.statuses[i] for i in known if i in memo.statuses}
    if unknown:
        shelters.update(reads.shelters(conn, unknown))
        evidence.update(reads.evidence(conn, unknown, now))
        statuses.update(reads.statuses(conn, unknown))
    spans = memo.alerts if memo.alerts is not None else reads.not_over(conn, now)
    state = _State(next_seq=head.seq + 1, head=(head.seq, head.hash), shelters=shelters,
                   spans=spans, alerts=reads.on_at(spans, now), ancestors={},
                   open_incidents=reads.open_incidents(session, [i for i in ids
                                                            if i not in memo.no_case]),
                   evidence=evidence,
                   statuses=statuses)
    if state.alerts:
        areas = {s.area_id for s in state.shelters.values()}
        state.ancestors = {a: memo.ancestors[a] for a in areas if a in memo.ancestors}
        state.ancestors.update(reads.ancestors(session, areas - state.ancestors.keys()))
    tracking_ids = iter(candidates if head.taken == 0
                        else reads.tracking_ids(conn, len(items), tracking_prefix))
    results: list[Intake | ShelterwatchError] = []
    for item in items:
        shelter = state.shelters.get(item.shelter_id)
        if shelter is None:
            results.append(InvalidInput(f"shelter_id: shelter {item.shelter_id} does not exist"))
            continue
        results.append(_one(session, state, item, shelter, next(tracking_ids), now))
    _write(session, state, now, also(results) if also is not None else [])
    memo.staged = (state.next_seq - 1, now, state)
    return results


def _one(session: Session, state: _State, item: Item, shelter: Place, tracking_id: str,
         now: datetime) -> Intake:
    distance = None
    if item.lat is not None and item.lon is not None:
        distance = round(great_circle_m(item.lat, item.lon, shelter.lat, shelter.lon), 1)
    alert = _alert_over(state, shelter.area_id)
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
        alert_id=alert.id if alert else None, routed_to=routed, private=hidden)
    seq = _append(state, FactKind.OBSERVATION_RECORDED, item.actor, payload, private)
    row = {"id": tracking_id, "shelter_id": shelter.id, "kind": payload["kind"],
           "role": payload["role"], "reporter": item.reporter, "distance_m": distance,
           "reason": item.reason, "at": now, "alert_id": alert.id if alert else None,
           "incident_id": None, "routed_to": routed, "seq": seq}
    state.observation_rows.append(row)
    state.evidence.setdefault(shelter.id, []).append(status_rules.Evidence(
        id=tracking_id, kind=item.kind, role=item.role, at=as_utc(now), reporter=item.reporter,
        distance_m=distance, reason=item.reason))
    evaluation = _evaluate(state, shelter.id, seq, item.actor, now)
    incident = _act(session, state, decision, row, shelter, alert, incident, item.actor, now)
    return Intake(_Recorded(tracking_id, row["kind"], routed), shelter, evaluation, decision,
                  incident)


def _append(state: _State, kind: str, actor: str, payload: Mapping[str, Any],
            private: Mapping[str, Any] | None = None) -> int:
    state.facts.append(log.NewFact(kind, actor, payload, private))
    state.next_seq += 1
    return state.next_seq - 1


def _evaluate(state: _State, shelter_id: int, seq: int, actor: str, now: datetime) -> Evaluation:
    """`observations.evaluate` on the batch's evidence: same rule, same fact, same row."""
    derived = status_rules.derive(state.evidence[shelter_id], now=as_utc(now))
    before = state.statuses.get(shelter_id)
    previous = Status(before[0]) if before is not None else Status.UNKNOWN
    after = (derived.status.value, derived.explanation_en, derived.confidence)
    changed = before is None or before != after
    row = _StatusRow(shelter_id, derived.status.value, derived.confidence, derived.explanation_uk,
                     derived.explanation_en,
                     orjson.dumps(derived.observation_ids).decode(), now, seq)
    if changed:
        _append(state, FactKind.STATUS_CHANGED, actor,
                {**observations.public_status(row), "previous": previous.value,
                 "trigger": "observation"})
    if before is None:
        state.new_status_ids.add(shelter_id)
    state.statuses[shelter_id] = after
    state.status_rows[shelter_id] = row
    return Evaluation(row, changed, previous)


def _act(session: Session, state: _State, decision: rules.Decision, row: dict[str, Any],
         shelter: Place, alert: Any, incident: Incident | None, actor: str,
         now: datetime) -> Incident | None:
    """`intake._act`, writing through the batch: the same facts and the same incident rows."""
    action = decision.action
    if action is rules.Action.OPEN:
        if state.next_incident_id is None:
            state.next_incident_id = (
                session.execute(select(func.max(Incident.id))).scalar_one() or 0) + 1
        payload = incidents.opened_payload(
            incident_id=state.next_incident_id, shelter_id=shelter.id, area_id=shelter.area_id,
            alert_id=alert.id if alert else None, observation_id=row["id"])
        state.next_incident_id += 1
        _append(state, FactKind.INCIDENT_OPENED, actor, payload)
        opened = Incident(id=payload["id"], tracking_id=row["id"], shelter_id=shelter.id,
                          area_id=shelter.area_id, alert_id=payload["alert_id"], opened_at=now,
                          opened_by=row["id"], me_too=0, last_report_at=now)
        session.add(opened)
        state.open_incidents[shelter.id] = opened
        row["incident_id"] = opened.id
        return opened
    if incident is None:
        return None
    if action in (rules.Action.JOIN, rules.Action.ATTACH):
        payload = incidents.joined_payload(incident, observation_id=row["id"], kind=row["kind"],
                                           me_too=action is rules.Action.JOIN)
        _append(state, FactKind.INCIDENT_JOINED, actor, payload)
        incident.me_too = int(payload["me_too_count"])
        incident.last_report_at = now
        row["incident_id"] = incident.id
        return incident
    if action is rules.Action.RESOLVE and decision.resolution is not None:
        payload = incidents.resolved_payload(incident, resolution=decision.resolution,
                                             observation_id=row["id"], now=now)
        _append(state, FactKind.INCIDENT_RESOLVED, actor, payload)
        incident.resolved_at = now
        incident.resolution = payload["resolution"]
        incident.resolved_by = row["id"]
        incident.time_to_open_s = payload["time_to_open_s"]
        row["incident_id"] = incident.id
        del state.open_incidents[shelter.id]
    return incident


def _write(session: Session, state: _State, now: datetime, also: Writes) -> None:
    """The batch's rows, one statement per table, then the caller's."""
    conn = session.connection()
    if not state.facts:
        for statement, rows in also:
            conn.execute(statement, rows)
        return
    new, old = [], []
    for k, v in state.status_rows.items():
        if k in state.new_status_ids:
            new.append({c: getattr(v, c) for c in _StatusRow.__slots__})
        else:
            old.append({f"b_{c}": getattr(v, c) for c in _StatusRow.__slots__})
    if conn.dialect.name == "postgresql":
        facts = log.chained(state.facts, now=now, head=state.head)
        last = facts[-1]
        if last["seq"] != state.next_seq - 1:
            raise RuntimeError("the log moved under its lock; the batch is not written")
        pipelined(conn, [
            (FACTS, facts),
            (log.MOVE_HEAD_AND_NOTIFY, [{"new_seq": last["seq"], "new_hash": last["hash"],
                                         "channel": log.NOTIFY_CHANNEL,
                                         "last": str(last["seq"])}]),
            (INSERT_OBSERVATIONS, state.observation_rows), (INSERT_STATUSES, new),
            (UPDATE_STATUS, old), *also])
    else:
        seqs = log.append_many(session, state.facts, now=now, locked_head=state.head)
        if seqs[-1] != state.next_seq - 1:
            raise RuntimeError("the log moved under its lock; the batch is not written")
        conn.execute(INSERT_OBSERVATIONS, state.observation_rows)
        if new:
            conn.execute(INSERT_STATUSES, new)
        if old:  # an UPDATE by primary key per row, sent as one executemany
            conn.execute(UPDATE_STATUS, old)
        for statement, rows in also:
            conn.execute(statement, rows)
    if session.dirty or session.new:
        session.flush()  # incidents opened, joined or resolved



def _alert_over(state: _State, area_id: str) -> Span | None:
    """The oldest alert on now over this area or any area above it (`intake.active_alert`)."""
    if not state.alerts:
        return None
    covering = set(state.ancestors.get(area_id, [area_id]))
    return next((a for a in state.alerts if a.area_id in covering), None)
