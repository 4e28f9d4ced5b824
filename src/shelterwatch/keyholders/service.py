"""Managing owners and keyholders, and finding whom to tell about a shelter.

Contacts are private: facts carry them only in their private part, and nothing here is public.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from shelterwatch.errors import InvalidInput, NotFound
from shelterwatch.keyholders.models import Keyholder, KeyholderShelter, Owner, OwnerShelter
from shelterwatch.log import service as log
from shelterwatch.vocabulary import FactKind

CHANNELS = ("email", "sms", "telegram", "webhook")


@dataclass(frozen=True, slots=True)
class ContactIn:
    name: str
    email: str | None = None
    sms: str | None = None
    telegram: str | None = None
    webhook: str | None = None

    def addresses(self) -> dict[str, str]:
        return {c: v for c in CHANNELS if (v := getattr(self, c))}


@dataclass(frozen=True, slots=True)
class Address:
    """Where one person is reached on one channel; `recipient` names them in delivery keys."""

    recipient: str
    channel: str
    address: str


def check(contact: ContactIn) -> None:
    """Refuse a person no one could reach, before anything is written."""
    if not contact.name.strip():
        raise InvalidInput("a keyholder or owner needs a name")
    if not contact.addresses():
        raise InvalidInput(f"{contact.name}: give at least one of {', '.join(CHANNELS)}")
    if contact.webhook and not contact.webhook.startswith(("http://", "https://")):
        raise InvalidInput(f"{contact.name}: webhook must be an http(s) URL")


def create_keyholder(session: Session, *, contact: ContactIn, shelter_ids: Sequence[int],
                     now: datetime, actor: str, owner_id: int | None = None,
                     token_id: int | None = None) -> Keyholder:
    """Register a keyholder for shelters; contacts go only into the fact's private part."""
    check(contact)
    row = Keyholder(name=contact.name.strip(), owner_id=owner_id, token_id=token_id,
                    active=True, created_at=now, **contact.addresses())
    session.add(row)
    session.flush()
    for sid in sorted(set(shelter_ids)):
        session.add(KeyholderShelter(keyholder_id=row.id, shelter_id=sid))
    log.append(session, kind=FactKind.KEYHOLDER_CREATED, actor=actor, now=now,
               payload={"id": row.id, "shelter_ids": sorted(set(shelter_ids)),
                        "channels": sorted(contact.addresses())},
               private={"name": row.name, **contact.addresses()})
    return row


def create_owner(session: Session, *, contact: ContactIn, shelter_ids: Sequence[int],
                 now: datetime, actor: str) -> Owner:
    check(contact)
    row = Owner(name=contact.name.strip(), created_at=now, **contact.addresses())
    session.add(row)
    session.flush()
    for sid in sorted(set(shelter_ids)):
        session.add(OwnerShelter(owner_id=row.id, shelter_id=sid))
    log.append(session, kind=FactKind.OWNER_CREATED, actor=actor, now=now,
               payload={"id": row.id, "shelter_ids": sorted(set(shelter_ids))},
               private={"name": row.name, **contact.addresses()})
    return row


def deactivate_keyholder(session: Session, *, keyholder_id: int, now: datetime,
                         actor: str) -> None:
    """Keys change hands: a former keyholder is kept on record but no longer notified."""
    row = session.get(Keyholder, keyholder_id)
    if row is None:
        raise NotFound(f"keyholder {keyholder_id} does not exist")
    if row.active:
        row.active = False
        log.append(session, kind=FactKind.KEYHOLDER_DEACTIVATED, actor=actor, now=now,
                   payload={"id": keyholder_id})


def list_keyholders(session: Session) -> list[tuple[Keyholder, list[int]]]:
    rows = session.execute(select(Keyholder).order_by(Keyholder.id)).scalars().all()
    links = session.execute(select(KeyholderShelter)).scalars().all()
    by_kh: dict[int, list[int]] = {}
    for link in links:
        by_kh.setdefault(link.keyholder_id, []).append(link.shelter_id)
    return [(r, sorted(by_kh.get(r.id, []))) for r in rows]


def _addresses(prefix: str, person: Keyholder | Owner) -> list[Address]:
    return [Address(f"{prefix}:{person.id}:{c}", c, v)
            for c in CHANNELS if (v := getattr(person, c))]


def keyholders_of(session: Session, shelter_id: int) -> list[Keyholder]:
    return list(session.execute(
        select(Keyholder).join(KeyholderShelter, KeyholderShelter.keyholder_id == Keyholder.id)
        .where(KeyholderShelter.shelter_id == shelter_id, Keyholder.active.is_(True))
        .order_by(Keyholder.id)
    ).scalars())


def keyholder_addresses(session: Session, shelter_id: int) -> list[Address]:
    """Every channel of every active keyholder of a shelter ("notified on every channel")."""
    return [a for k in keyholders_of(session, shelter_id) for a in _addresses("keyholder", k)]


def owner_addresses(session: Session, shelter_id: int) -> list[Address]:
    owners = session.execute(
        select(Owner).join(OwnerShelter, OwnerShelter.owner_id == Owner.id)
        .where(OwnerShelter.shelter_id == shelter_id).order_by(Owner.id)
    ).scalars()
    return [a for o in owners for a in _addresses("owner", o)]


def addresses_in(session: Session, shelter_ids: Select[Any]
                 ) -> list[tuple[int, Address]]:
    """(shelter, address) for every channel of every active keyholder of the selected shelters,
    in one query whatever their number (an alert's start over a whole city)."""
    rows = session.execute(
        select(KeyholderShelter.shelter_id, Keyholder)
        .join(Keyholder, Keyholder.id == KeyholderShelter.keyholder_id)
        .where(KeyholderShelter.shelter_id.in_(shelter_ids), Keyholder.active.is_(True))
        .order_by(KeyholderShelter.shelter_id, Keyholder.id)).all()
    return [(sid, a) for sid, person in rows for a in _addresses("keyholder", person)]


def shelters_with_keyholders(session: Session, shelter_ids: Iterable[int]) -> dict[int, int]:
    """How many active keyholders each of these shelters has (absent = none)."""
    wanted = set(shelter_ids)
    counts: dict[int, int] = {}
    for sid, _kid in session.execute(
        select(KeyholderShelter.shelter_id, KeyholderShelter.keyholder_id)
        .join(Keyholder, Keyholder.id == KeyholderShelter.keyholder_id)
        .where(Keyholder.active.is_(True))
    ).all():
        if sid in wanted:
            counts[sid] = counts.get(sid, 0) + 1
    return counts
