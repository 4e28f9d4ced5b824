"""Evidence that the escalation machinery itself brings in: door controllers and one-tap links.

Both go through the same intake as any check, so a door's `unlocked` or a keyholder's tap resolves
an incident and verifies a status exactly as a typed-in check would.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from shelterwatch.auth.service import Actor
from shelterwatch.checks import service as checks
from shelterwatch.checks.schemas import CheckIn
from shelterwatch.config import Settings
from shelterwatch.doors import service as doors
from shelterwatch.errors import Forbidden
from shelterwatch.escalation import links
from shelterwatch.intake.core import Intake
from shelterwatch.keyholders.models import Keyholder, KeyholderShelter
from shelterwatch.vocabulary import Role


def door_state(session: Session, *, shelter_id: int, state: str, at: datetime,
               settings: Settings, now: datetime) -> Intake | None:
    """Store a controller's state; a change to unlocked/locked becomes an observation."""
    kind = doors.record_state(session, shelter_id=shelter_id, state=state, at=at, now=now)
    if kind is None:
        return None
    actor = Actor(role=Role.DOOR, name=f"door:{shelter_id}", shelter_ids=frozenset({shelter_id}))
    return checks.submit(session, check=CheckIn(shelter_id=shelter_id, kind=kind.value),
                         actor=actor, now=now, tracking_prefix=settings.tracking_prefix)


def check_in_by_link(session: Session, *, token: str, settings: Settings,
                     now: datetime) -> Intake:
    """The keyholder tapped their link: record `open` for that shelter in their name."""
    grant = links.read_token(settings.secret_key, token, now=now)
    keyholder = session.get(Keyholder, grant.keyholder_id)
    bound = session.get(KeyholderShelter, (grant.keyholder_id, grant.shelter_id))
    if keyholder is None or not keyholder.active or bound is None:
        raise Forbidden("this check-in link no longer belongs to a keyholder of this shelter")
    actor = Actor(role=Role.KEYHOLDER, token_id=keyholder.token_id, name=keyholder.name,
                  shelter_ids=frozenset({grant.shelter_id}))
    return checks.submit(session, check=CheckIn(shelter_id=grant.shelter_id, kind="open"),
                         actor=actor, now=now, tracking_prefix=settings.tracking_prefix)
