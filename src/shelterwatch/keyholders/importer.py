"""Importing a list of owners and keyholders: a city's whole list in one transaction.

Rows with the same role, name and contacts are one person holding several shelters. The whole
file is refused on the first bad row, naming its line, so nothing is half-imported. Contacts go
only into each fact's private part.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from sqlalchemy import Table, func, select, text
from sqlalchemy.orm import Session

from shelterwatch import bulk, db
from shelterwatch.errors import InvalidInput
from shelterwatch.keyholders.models import Keyholder, KeyholderShelter, Owner, OwnerShelter
from shelterwatch.keyholders.service import CHANNELS, ContactIn, check
from shelterwatch.log import service as log
from shelterwatch.vocabulary import FactKind

CSV_COLUMNS = ("role", "name", "shelter_id", *CHANNELS)
ROLES = {"keyholder": (Keyholder, KeyholderShelter, "keyholder_id", FactKind.KEYHOLDER_CREATED),
         "owner": (Owner, OwnerShelter, "owner_id", FactKind.OWNER_CREATED)}
# role, name and the four contacts as read (stripped, None when blank): one person
Person = tuple[str | None, ...]


def import_csv(session: Session, *, text: str, now: datetime, actor: str) -> dict[str, int]:
    """Import rows `role,name,shelter_id,email,sms,telegram,webhook` (role keyholder|owner)."""
    with db.collector_paused():
        return _write(session, _read(text), now=now, actor=actor)


def _read(text: str) -> dict[Person, tuple[ContactIn, list[int]]]:
    """Every person in the file's order with the shelters they hold; raises on a bad row.

    Rows are lists from `csv.reader` (a DictReader dict per row cost more than the checks), and
    each person is built and checked once, on their first row."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None) or []
    missing = set(CSV_COLUMNS[:3]) - set(header)
    if missing:
        raise InvalidInput(f"keyholder CSV lacks columns: {', '.join(sorted(missing))}")
    at = {name: i for i, name in enumerate(header)}  # a repeated column: the last one counts
    role_at, name_at, shelter_at = at["role"], at["name"], at["shelter_id"]
    contact_at = [at.get(c) for c in CHANNELS]
    width = len(header)
    people: dict[Person, tuple[ContactIn, list[int]]] = {}
    end = reader.line_num
    for fields in reader:
        # The physical line the row starts on, so the operator can open the file there.
        line, end = end + 1, reader.line_num
        if not fields:
            continue
        if len(fields) < width:
            fields += [""] * (width - len(fields))
        role = fields[role_at].strip()
        if role not in ROLES:
            raise InvalidInput(f"line {line}: role must be keyholder or owner, not {role!r}")
        try:
            shelter_id = int(fields[shelter_at].strip())
        except ValueError:
            raise InvalidInput(f"line {line}: shelter_id must be a number") from None
        name = fields[name_at].strip()
        contacts = [(fields[i].strip() or None) if i is not None else None for i in contact_at]
        person = (role, name, *contacts)
        known = people.get(person)
        if known is None:
            contact = ContactIn(name, *contacts)
            try:
                check(contact)
            except InvalidInput as exc:
                raise InvalidInput(f"line {line}: {exc.detail}") from None
            people[person] = (contact, [shelter_id])
        else:
            known[1].append(shelter_id)
    return people


def _new_ids(session: Session, table: Table, n: int) -> list[int]:
    """`n` ids for new rows of `table`, taken under the log's lock: from the table's sequence on
    PostgreSQL (other writers keep using it), after the largest on SQLite (one writer)."""
    if n == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return sorted(session.execute(
            text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
            {"t": table.name, "n": n}).scalars())
    first = session.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one() + 1
    return list(range(first, first + n))


def _write(session: Session, people: dict[Person, tuple[ContactIn, list[int]]], *,
           now: datetime, actor: str) -> dict[str, int]:
    """Every person, their shelters and one fact each: one bulk insert per table (COPY on
    PostgreSQL) and one `append_many`, the ids in the file's order.

    The same rows and facts as `create_keyholder` / `create_owner` one by one (a flush and a
    fact per person cost ~2 ms each: a national list of 10,000 took 20 s)."""
    log.lock(session)  # ids and seqs are allocated in one order, one writer at a time
    ids: dict[Person, int] = {}
    counts = {}
    for role, (model, _link, _fk, _kind) in ROLES.items():
        mine = [p for p in people if p[0] == role]  # the file's order
        ids.update(zip(mine, _new_ids(session, db.table_of(model), len(mine)), strict=True))
        counts[role] = len(mine)
    rows: dict[str, list[dict[str, Any]]] = {"keyholder": [], "owner": []}
    links: dict[str, list[dict[str, int]]] = {"keyholder": [], "owner": []}
    facts: list[log.NewFact] = []
    for person, (contact, shelter_ids) in people.items():
        role = "keyholder" if person[0] == "keyholder" else "owner"
        _model, _link, fk, kind = ROLES[role]
        person_id, shelters = ids[person], sorted(set(shelter_ids))
        addresses = contact.addresses()
        row = {"id": person_id, "name": contact.name, "created_at": now,
               **dict(zip(CHANNELS, person[2:], strict=True))}
        payload: dict[str, Any] = {"id": person_id, "shelter_ids": shelters}
        if role == "keyholder":
            row["active"] = True
            payload["channels"] = sorted(addresses)
        rows[role].append(row)
        links[role].extend({fk: person_id, "shelter_id": sid} for sid in shelters)
        facts.append(log.NewFact(kind, actor, payload, {"name": contact.name, **addresses}))
    for role, (model, link, _fk, _kind) in ROLES.items():
        bulk.insert(session, db.table_of(model), rows[role])
        bulk.insert(session, db.table_of(link), links[role])
    log.append_many(session, facts, now=now)
    return counts
