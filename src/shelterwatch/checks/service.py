"""Checks by role-holders: authoritative evidence that can verify, overturn or close a case."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from shelterwatch.auth.service import BOUND, Actor
from shelterwatch.checks.schemas import CheckIn
from shelterwatch.errors import Forbidden
from shelterwatch.intake import service as intake
from shelterwatch.intake.core import Intake
from shelterwatch.observations import service as observations
from shelterwatch.vocabulary import ObservationKind


def submit(session: Session, *, check: CheckIn, actor: Actor, now: datetime,
           tracking_prefix: str) -> Intake:
    """Record a check; a keyholder's or a door's token acts only on the shelters it is bound to."""
    if actor.role in BOUND and check.shelter_id not in actor.shelter_ids:
        raise Forbidden(f"this {actor.role.value} token is not bound to shelter "
                        f"{check.shelter_id}")
    return intake.submit(
        session, shelter_id=check.shelter_id, kind=ObservationKind(check.kind), role=actor.role,
        reporter=observations.reporter_key(role=actor.role, device_id=None,
                                           token_label=actor.label),
        actor=actor.label, now=now, tracking_prefix=tracking_prefix, lat=check.lat,
        lon=check.lon, reason=check.reason or "",
        private={"note": check.note} if check.note else None)


def receipt(result: Intake) -> dict[str, Any]:
    status = observations.public_status(result.evaluation.row)
    incident = result.incident
    return {
        "id": result.observation.id,
        "shelter_id": result.shelter.id,
        "kind": result.observation.kind,
        "status": status["status"],
        "status_explanation": status["explanation"],
        "action": result.decision.action.value,
        "incident": ({"id": incident.id, "tracking_id": incident.tracking_id,
                      "state": "open" if incident.resolved_at is None else "resolved",
                      "resolution": incident.resolution} if incident else None),
    }
