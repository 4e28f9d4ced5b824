"""Door controllers as registry rows: which shelters have one, what each said, who is silent."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shelterwatch.clock import as_utc
from shelterwatch.doors.models import DoorController
from shelterwatch.errors import InvalidInput
from shelterwatch.log import service as log
from shelterwatch.outbox import service as outbox
from shelterwatch.vocabulary import FactKind, Noun, ObservationKind, Subject

# What a controller's state means as evidence about the door.
EVIDENCE = {"unlocked": ObservationKind.OPEN, "open": ObservationKind.OPEN,
            "locked": ObservationKind.LOCKED}
STATES = frozenset({"unlocked", "open", "locked", "closed"})


def unlock_command(shelter_id: int, *, subject: str, step: str, why: str) -> outbox.Outgoing:
    """The one unlock command a door controller is sent, whoever asks (alert, case, operator)."""
    return outbox.Outgoing(
        subject=subject, step=step, recipient=str(Subject(Noun.DOOR, shelter_id)), channel="door",
        address=str(shelter_id), title=f"unlock: {why}", body="unlock",
        data={"command": "unlock"}, priority=outbox.Priority.DOOR)


def register(session: Session, *, shelter_id: int, device_id: str, now: datetime,
             actor: str) -> DoorController:
    """Record that a shelter's door has a controller; registering again updates the device id."""
    row = session.get(DoorController, shelter_id)
    if row is None:
        row = DoorController(shelter_id=shelter_id, device_id=device_id, silent=False,
                             registered_at=now)
        session.add(row)
    else:
        row.device_id = device_id
    session.flush()
    log.append(session, kind=FactKind.DOOR_REGISTERED, actor=actor, now=now,
               payload={"shelter_id": shelter_id, "device_id": device_id})
    return row


def get(session: Session, shelter_id: int) -> DoorController | None:
    return session.get(DoorController, shelter_id)


def in_shelters(session: Session, shelter_ids: Iterable[int]) -> Sequence[DoorController]:
    wanted = list(set(shelter_ids))
    if not wanted:
        return []
    return session.execute(
        select(DoorController).where(DoorController.shelter_id.in_(wanted))
        .order_by(DoorController.shelter_id)).scalars().all()


def record_state(session: Session, *, shelter_id: int, state: str, at: datetime,
                 now: datetime) -> ObservationKind | None:
    """Store a state message; returns the evidence it gives when the state changed, else None.

    A repeated heartbeat with the same state only proves the controller is alive.
    """
    if state not in STATES:
        raise InvalidInput(f"door state must be one of {', '.join(sorted(STATES))}")
    row = session.get(DoorController, shelter_id)
    if row is None:
        raise InvalidInput(f"shelter {shelter_id} has no registered door controller")
    changed = row.last_state != state
    was_silent = row.silent
    row.last_state, row.last_seen_at, row.silent = state, at, False
    if was_silent:
        log.append(session, kind=FactKind.DOOR_BACK, actor=f"door:{shelter_id}", now=now,
                   payload={"shelter_id": shelter_id})
    if not changed:
        return None
    log.append(session, kind=FactKind.DOOR_STATE, actor=f"door:{shelter_id}", now=now,
               payload={"shelter_id": shelter_id, "state": state, "at": at.isoformat()})
    return EVIDENCE.get(state)


def flag_silent(session: Session, *, now: datetime, stale_after_s: float) -> list[int]:
    """Flag controllers that stopped reporting: their last word about the door is no longer news."""
    cutoff = now - timedelta(seconds=stale_after_s)
    rows = session.execute(
        select(DoorController).where(DoorController.silent.is_(False))).scalars().all()
    flagged: list[int] = []
    for row in rows:
        seen = as_utc(row.last_seen_at or row.registered_at)
        if seen < cutoff:
            row.silent = True
            flagged.append(row.shelter_id)
            log.append(session, kind=FactKind.DOOR_SILENT, actor="worker", now=now,
                       payload={"shelter_id": row.shelter_id,
                                "last_seen_at": seen.isoformat()})
    return flagged
