"""Observations and each shelter's status as stored: their facts' shapes, reads and re-evaluation.

Observations are taken in by `shelterwatch.intake` (the one place they are decided); this module
holds what that and the other writers share: the `observation.recorded` fact's public and private
parts (the reporter's device id, contact, precise position and note go into the private part
only), the public form of a status, and `evaluate`, which re-derives a stored shelter's status when
time passes (`fading`) or the log is replayed (`rebuild`) and appends `status.changed` when it
moved. Callers own the transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from shelterwatch.clock import as_utc
from shelterwatch.log import service as log
from shelterwatch.messages import status as wording
from shelterwatch.observations.models import Observation, ShelterStatus
from shelterwatch.observations.quarantine import quarantined
from shelterwatch.rules import status as rules
from shelterwatch.rules import tracking
from shelterwatch.rules.status_record import StatusView, is_set_aside, reasons_json, status_fact
from shelterwatch.vocabulary import FactKind, ObservationKind, Reason, ReasonCode, Role, Status

REFRESH_TRIGGER = "refresh"
QUARANTINE_TRIGGER = "quarantine"  # an operator quarantined or released a source
# Evaluations that are their own cause: they append a fact only when the status moved.
SELF_TRIGGERS = frozenset({REFRESH_TRIGGER, QUARANTINE_TRIGGER})


@dataclass(frozen=True, slots=True)
class Evaluation:
    """A shelter's status after an evaluation, and whether it changed."""

    row: StatusView
    changed: bool
    previous: Status


def reporter_key(*, role: Role, device_id: str | None, token_label: str) -> str:
    """Who counts as one voice: a digest of the device id, or the token's label.

    Residents who send no device id share one voice (the rule counts them once), which is the
    safe reading of an anonymous crowd.
    """
    if role is not Role.RESIDENT:
        return token_label
    if not device_id:
        return ""
    return "d:" + hashlib.sha256(device_id.encode()).hexdigest()[:24]


def new_tracking_id(session: Session, *, prefix: str) -> str:
    """A fresh, unused tracking id; collisions are retried (33 million ids per prefix)."""
    for _ in range(20):
        candidate = tracking.encode(prefix, secrets.randbelow(tracking.SPACE))
        if session.get(Observation, candidate) is None:
            return candidate
    raise RuntimeError("could not find an unused tracking id in 20 tries")


def get(session: Session, observation_id: str) -> Observation | None:
    return session.get(Observation, observation_id)


def restore(session: Session, *, payload: Mapping[str, Any], private: Mapping[str, Any],
            at: datetime, seq: int) -> Observation:
    """Recreate an observation row from its fact (rebuild): observed when the phone made it,
    where it said so (bounded when recorded), else when it arrived."""
    if payload.get("made_at"):
        at = datetime.fromisoformat(payload["made_at"])
    row = Observation(id=payload["id"], shelter_id=int(payload["shelter_id"]),
                      kind=payload["kind"], role=payload["role"],
                      reporter=private.get("reporter", ""), source=private.get("source", ""),
                      distance_m=private.get("distance_m"),
                      reason=payload.get("reason") or "", at=at, alert_id=payload.get("alert_id"),
                      routed_to=payload.get("routed_to"), incident_id=None, seq=seq)
    session.add(row)
    session.flush()
    return row


def evidence(session: Session, *, shelter_id: int, now: datetime,
             policy: rules.StatusPolicy = rules.DEFAULT_POLICY) -> list[rules.Evidence]:
    """The observations that can still matter for this shelter at `now`, as rule inputs."""
    since = as_utc(now) - rules.evaluation_horizon(policy)
    rows = session.execute(
        select(Observation).where(Observation.shelter_id == shelter_id,
                                  Observation.at >= since, Observation.at <= as_utc(now))
    ).scalars().all()
    aside = quarantined(session) if rows else frozenset()
    return [to_evidence(r, aside) for r in rows]


def to_evidence(row: Observation, aside: frozenset[str] = frozenset()) -> rules.Evidence:
    return rules.Evidence(id=row.id, kind=ObservationKind(row.kind), role=Role(row.role),
                          at=as_utc(row.at), reporter=row.reporter, distance_m=row.distance_m,
                          reason=row.reason,
                          set_aside=is_set_aside(Role(row.role), row.source, aside))


def current(session: Session, shelter_id: int) -> ShelterStatus | None:
    return session.get(ShelterStatus, shelter_id)


def evaluate(session: Session, *, shelter_id: int, now: datetime, seq: int | None, actor: str,
             append: bool = True, trigger: str = "observation",
             policy: rules.StatusPolicy = rules.DEFAULT_POLICY) -> Evaluation:
    """Re-derive the shelter's status at `now`; append `status.changed` when it changed.

    `seq` is the fact that caused the evaluation (an observation); None means the evaluation is
    its own cause (a refresh), and the row then points at the `status.changed` fact.
    """
    derived = rules.derive(evidence(session, shelter_id=shelter_id, now=now, policy=policy),
                           now=as_utc(now), policy=policy)
    row = session.get(ShelterStatus, shelter_id)
    previous = Status(row.status) if row is not None else Status.UNKNOWN
    changed = row is None or stored_identity(row) != derived.identity
    if not changed and trigger in SELF_TRIGGERS:
        assert row is not None
        return Evaluation(row, False, previous)
    if row is None:
        row = ShelterStatus(shelter_id=shelter_id)
        session.add(row)
    row.status = derived.status.value
    row.confidence = derived.confidence
    row.reasons = reasons_json(derived.reasons)
    row.observation_ids = orjson.dumps(list(derived.observation_ids)).decode()
    row.evaluated_at = now
    row.seq = seq or 0
    fact_seq = None
    if changed and append:
        fact_seq = log.append(session, kind=FactKind.STATUS_CHANGED, actor=actor, now=now,
                              payload={**status_fact(row), "previous": previous.value,
                                       "trigger": trigger})
    row.seq = seq if seq is not None else (fact_seq or 0)
    session.flush()
    return Evaluation(row, changed, previous)


def stored_identity(row: StatusView) -> rules.Identity:
    """What a stored status is, for comparing with a fresh derivation (never its wording)."""
    return rules.identity(row.status, wording.from_json(orjson.loads(row.reasons)), row.confidence)


def payload_identity(payload: Mapping[str, Any]) -> rules.Identity | None:
    """The identity a `status.changed` fact records; None for a fact without reason codes."""
    if "reasons" not in payload or payload.get("status") not in frozenset(Status):
        return None
    return rules.identity(payload["status"], wording.from_json(payload["reasons"]),
                          float(payload.get("confidence") or 0.0))


def worded(recorded: Mapping[str, Any]) -> dict[str, Any]:
    """A status as recorded (`status_fact`, or a fact's payload) as anyone may read it: with its
    explanation worded by the catalogue, and without its reason codes."""
    at = recorded.get("evaluated_at")
    reference = datetime.fromisoformat(at) if isinstance(at, str) else at
    explanation = wording.explain_both(recorded["status"],
                                       wording.from_json(recorded.get("reasons") or ()),
                                       reference=reference)
    return {"shelter_id": recorded["shelter_id"], "status": recorded["status"],
            "confidence": recorded.get("confidence"), "explanation": explanation,
            "observation_ids": recorded.get("observation_ids") or [], "evaluated_at": at}


UNCHECKED = (Reason.of(ReasonCode.NOBODY_CHECKED),)


def public_status(row: StatusView | None, shelter_id: int | None = None) -> dict[str, Any]:
    """A status as anyone may see it: status, confidence, why, and which observations."""
    if row is None:
        return {"shelter_id": shelter_id, "status": Status.UNKNOWN.value, "confidence": 0.0,
                "explanation": wording.explain_both(Status.UNKNOWN, UNCHECKED, reference=None),
                "observation_ids": [], "evaluated_at": None}
    return worded(status_fact(row))


def list_for_incident(session: Session, incident_id: int) -> Sequence[Observation]:
    return session.execute(
        select(Observation).where(Observation.incident_id == incident_id)
        .order_by(Observation.at, Observation.seq)
    ).scalars().all()


# Who can say a door was open in a way that costs something to fake (DESIGN §2, "witness").
VERIFYING_ROLES = (Role.KEYHOLDER, Role.PATROL, Role.AUDITOR, Role.DOOR, Role.OPERATOR)


def last_verified_open(session: Session, shelter_id: int) -> Observation | None:
    """The latest `open` (or forced open) from a keyholder, patrol, auditor, operator or door:
    what the shelter card shows as "last verified open", whatever the status now. One indexed
    look-up (shelter_id, at)."""
    return session.execute(
        select(Observation).where(
            Observation.shelter_id == shelter_id,
            Observation.kind.in_([ObservationKind.OPEN.value, ObservationKind.FORCED_OPEN.value]),
            Observation.role.in_([r.value for r in VERIFYING_ROLES]))
        .order_by(Observation.at.desc()).limit(1)
    ).scalars().first()
