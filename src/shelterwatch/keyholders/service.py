"""Managing owners and keyholders, and finding whom to tell about a shelter.

Contacts are private: facts carry them only in their private part, and nothing here is public.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, insert, select
from sqlalchemy.orm import Session

from shelterwatch import db
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


def _check(contact: ContactIn) -> None:
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
    _check(contact)
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
    _check(contact)
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


CSV_COLUMNS = ("role", "name", "shelter_id", "email", "sms", "telegram", "webhook")


def import_csv(session: Session, *, text: str, now: datetime, actor: str) -> dict[str, int]:
    """Import rows `role,name,shelter_id,email,sms,telegram,webhook` (role keyholder|owner).

    Rows with the same role, name and contacts are one person holding several shelters. The
    whole file is refused on the first bad row, naming its line, so nothing is half-imported.
    """
    with db.collector_paused():
        return _import_csv(session, text=text, now=now, actor=actor)


def _import_csv(session: Session, *, text: str, now: datetime, actor: str) -> dict[str, int]:
    reader = csv.DictReader(io.StringIO(text))
    missing = set(CSV_COLUMNS[:3]) - set(reader.fieldnames or ())
    if missing:
        raise InvalidInput(f"keyholder CSV lacks columns: {', '.join(sorted(missing))}")
    people: dict[tuple[str, ContactIn], list[int]] = {}
    for line, row in enumerate(reader, start=2):
        role = (row.get("role") or "").strip()
        if role not in ("keyholder", "owner"):
            raise InvalidInput(f"line {line}: role must be keyholder or owner, not {role!r}")
        try:
            shelter_id = int((row.get("shelter_id") or "").strip())
        except ValueError:
            raise InvalidInput(f"line {line}: shelter_id must be a number") from None
        contact = ContactIn(name=(row.get("name") or "").strip(),
                            **{c: (row.get(c) or "").strip() or None for c in CHANNELS})
        try:
            _check(contact)
        except InvalidInput as exc:
            raise InvalidInput(f"line {line}: {exc.detail}") from None
        people.setdefault((role, contact), []).append(shelter_id)
    return _write_people(session, people, now=now, actor=actor)


def _write_people(session: Session, people: dict[tuple[str, ContactIn], list[int]], *,
                  now: datetime, actor: str) -> dict[str, int]:
    """Every person, their shelters and one fact each, in a few set-based statements.

    The same rows and facts as `create_keyholder` / `create_owner` one by one (a flush and a
    fact per person cost ~2 ms each: a national list of 10,000 took 20 s), with the ids handed
    out by the database in the file's order.
    """
    models = {"keyholder": (Keyholder, KeyholderShelter, "keyholder_id",
                            FactKind.KEYHOLDER_CREATED),
              "owner": (Owner, OwnerShelter, "owner_id", FactKind.OWNER_CREATED)}
    ids: dict[tuple[str, ContactIn], int] = {}
    for role, (model, _link, _fk, _kind) in models.items():
        mine = [contact for (r, contact) in people if r == role]
        if not mine:
            continue
        rows = [{"name": c.name.strip(), "created_at": now,
                 **{ch: getattr(c, ch) or None for ch in CHANNELS},
                 **({"active": True} if role == "keyholder" else {})} for c in mine]
        table = db.table_of(model)
        new_ids = session.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars()
        ids.update(zip(((role, c) for c in mine), new_ids, strict=True))
    facts: list[log.NewFact] = []
    links: dict[str, list[dict[str, int]]] = {"keyholder": [], "owner": []}
    counts = {"keyholder": 0, "owner": 0}
    for (role, contact), shelter_ids in people.items():
        _model, _link, fk, kind = models[role]
        person_id, shelters = ids[(role, contact)], sorted(set(shelter_ids))
        links[role].extend({fk: person_id, "shelter_id": sid} for sid in shelters)
        payload: dict[str, Any] = {"id": person_id, "shelter_ids": shelters}
        if role == "keyholder":
            payload["channels"] = sorted(contact.addresses())
        facts.append(log.NewFact(kind, actor, payload,
                                 {"name": contact.name.strip(), **contact.addresses()}))
        counts[role] += 1
    for role, (_model, link, _fk, _kind) in models.items():
        db.bulk_insert(session, db.table_of(link), links[role])
    log.append_many(session, facts, now=now)
    return counts
