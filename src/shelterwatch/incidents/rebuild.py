"""Recompute observations, statuses, incidents, place reports and quarantined sources from the
fact log alone.

DESIGN §3.3: derived state is a pure function of the facts and `now`. Each status is re-derived by
the pure rule at the moment of each fact that caused an evaluation (an observation, or a refresh),
exactly as the live path did, so the rebuilt tables equal the live ones; a `status.changed` fact
whose recorded status differs from the recomputed one is counted as a mismatch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from shelterwatch.clock import as_utc
from shelterwatch.incidents import service as incidents
from shelterwatch.incidents.models import Incident
from shelterwatch.log.models import Fact
from shelterwatch.observations import quarantine
from shelterwatch.observations import service as observations
from shelterwatch.observations.models import (
    Observation,
    PlaceReport,
    ShelterStatus,
    SourceQuarantine,
)
from shelterwatch.vocabulary import FactKind

BATCH = 2000


@dataclass
class Rebuilt:
    facts: int = 0
    observations: int = 0
    incidents: int = 0
    place_reports: int = 0
    mismatches: list[int] = field(default_factory=list)  # seqs of status facts not reproduced


def rebuild(session: Session) -> Rebuilt:
    """Empty the derived tables and replay the log into them (the caller commits)."""
    for table in (Observation, ShelterStatus, Incident, PlaceReport, SourceQuarantine):
        session.execute(delete(table))
    result = Rebuilt()
    last = 0
    while True:
        facts = session.execute(select(Fact).where(Fact.seq > last).order_by(Fact.seq)
                                .limit(BATCH)).scalars().all()
        if not facts:
            break
        for fact in facts:
            _apply(session, fact, result)
        last = facts[-1].seq
    session.flush()
    return result


def _apply(session: Session, fact: Fact, result: Rebuilt) -> None:
    result.facts += 1
    kind = fact.kind
    at = as_utc(fact.at)
    if kind == FactKind.OBSERVATION_RECORDED:
        payload = orjson.loads(fact.payload)
        private = orjson.loads(fact.private) if fact.private else {}
        row = observations.restore(session, payload=payload, private=private, at=at,
                                   seq=fact.seq)
        observations.evaluate(session, shelter_id=row.shelter_id, now=at, seq=fact.seq,
                              actor="rebuild", append=False)
        result.observations += 1
    elif kind == FactKind.STATUS_CHANGED:
        payload = orjson.loads(fact.payload)
        shelter_id = int(payload["shelter_id"])
        trigger = payload.get("trigger")
        if trigger in observations.SELF_TRIGGERS:
            observations.evaluate(session, shelter_id=shelter_id, now=at, seq=fact.seq,
                                  actor="rebuild", append=False, trigger=trigger)
        status = observations.current(session, shelter_id)
        if status is None or observations.stored_identity(status) != (
                observations.payload_identity(payload)):
            result.mismatches.append(fact.seq)
    elif kind == FactKind.SOURCE_QUARANTINED:
        private = orjson.loads(fact.private) if fact.private else {}
        quarantine.apply_quarantined(session, source=private.get("source", ""),
                                     reason=private.get("reason") or "", actor=fact.actor,
                                     at=at, seq=fact.seq)
    elif kind == FactKind.SOURCE_RELEASED:
        private = orjson.loads(fact.private) if fact.private else {}
        quarantine.apply_released(session, source=private.get("source", ""), actor=fact.actor,
                                  at=at)
    elif kind in incidents.APPLY:
        payload = orjson.loads(fact.payload)
        incidents.APPLY[kind](session, payload, at)
        if kind == FactKind.INCIDENT_OPENED:
            result.incidents += 1
    elif kind == FactKind.PLACE_NO_SHELTER_REPORTED:
        payload = orjson.loads(fact.payload)
        session.add(PlaceReport(id=payload["id"], lat=payload["lat"], lon=payload["lon"], at=at,
                                seq=fact.seq))
        result.place_reports += 1
