"""Importing a registry file: validate every row, place it in an area, upsert by source + id.

Everything is decided before anything is written, so `--strict` can refuse the whole file, and the
write is a few bulk statements in one transaction so a national registry imports in seconds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from shelterwatch import bulk, db
from shelterwatch.areas import service as areas
from shelterwatch.areas.bundled import normalise_name
from shelterwatch.errors import ImportRejected
from shelterwatch.ingest.records import Rejection, ShelterRecord
from shelterwatch.log import service as log
from shelterwatch.shelters.models import Shelter
from shelterwatch.vocabulary import FactKind

PUBLIC_FIELDS = ("name", "address", "lat", "lon", "area_id", "kind", "capacity", "step_free",
                 "obligation", "facilities", "details")


@dataclass
class ImportSummary:
    source: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    near_duplicates: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "rejected": len(self.rejected)}


def _values(rec: ShelterRecord, area_id: str,
            facilities_json: dict[tuple[Any, ...], str] | None = None) -> dict[str, Any]:
    """The stored public values; `facilities_json` memoises the few facility lists a file has."""
    if facilities_json is None or (facilities := facilities_json.get(rec.facilities)) is None:
        facilities = orjson.dumps([f.value for f in rec.facilities]).decode()
        if facilities_json is not None:
            facilities_json[rec.facilities] = facilities
    return {
        "name": rec.name, "address": rec.address, "lat": rec.lat, "lon": rec.lon,
        "area_id": area_id, "kind": rec.kind.value, "capacity": rec.capacity,
        "step_free": rec.step_free, "obligation": rec.obligation.value,
        "facilities": facilities,
        "details": orjson.dumps(rec.details, option=orjson.OPT_SORT_KEYS).decode()
        if rec.details else "{}",
        "owner": rec.owner,
    }


def _fingerprint(values: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(values, option=orjson.OPT_SORT_KEYS)).hexdigest()


def public_payload(shelter_id: int, source: str, source_id: str, values: dict[str, Any],
                   rec: ShelterRecord | None = None) -> dict[str, Any]:
    """What the log says publicly about a shelter; the owner goes to the private part.

    With the record at hand its facilities and details are taken as they are, not parsed back
    from the JSON just made of them (130,000 parses in a national import)."""
    out = {"id": shelter_id, "source": source, "source_id": source_id, **values}
    del out["owner"]
    if rec is None:
        out["facilities"] = orjson.loads(values["facilities"])
        out["details"] = orjson.loads(values["details"])
    else:
        out["facilities"] = [f.value for f in rec.facilities]
        out["details"] = rec.details
    return out


def _split(items: Iterable[ShelterRecord | Rejection], summary: ImportSummary,
           progress: Callable[[int], None] | None) -> list[ShelterRecord]:
    records: list[ShelterRecord] = []
    first_seen: dict[str, str] = {}
    for n, item in enumerate(items, start=1):
        if progress is not None and n % 1000 == 0:
            progress(n)
        if isinstance(item, Rejection):
            summary.rejected.append(item)
        elif item.source_id in first_seen:
            summary.rejected.append(Rejection(
                item.location, f"duplicate id {item.source_id!r} (first at "
                               f"{first_seen[item.source_id]})"))
        else:
            first_seen[item.source_id] = item.location
            records.append(item)
    return records


def _near_duplicates(placed: list[tuple[ShelterRecord, str]]) -> list[str]:
    by_point: dict[tuple[float, float], list[ShelterRecord]] = {}
    out: list[str] = []
    for rec, _ in placed:
        same_point = by_point.setdefault((round(rec.lat, 5), round(rec.lon, 5)), [])
        if same_point:  # rare: compare addresses only where points coincide
            address = normalise_name(rec.address)
            first = next((o for o in same_point if normalise_name(o.address) == address), None)
            if first is not None:
                out.append(f"{rec.location} has the same point and address as "
                           f"{first.location}: {rec.address!r}")
        same_point.append(rec)
    return out


def import_records(session: Session, items: Iterable[ShelterRecord | Rejection], *, source: str,
                   now: datetime, actor: str = "cli", strict: bool = False,
                   progress: Callable[[int], None] | None = None) -> ImportSummary:
    """Validate, place and upsert; raises ImportRejected (writing nothing) when strict."""
    with db.collector_paused():
        return _import(session, items, source=source, now=now, actor=actor, strict=strict,
                       progress=progress)


def _import(session: Session, items: Iterable[ShelterRecord | Rejection], *, source: str,
            now: datetime, actor: str, strict: bool,
            progress: Callable[[int], None] | None) -> ImportSummary:
    summary = ImportSummary(source=source)
    records = _split(items, summary, progress)
    located = areas.locator(session).locate([r.lon for r in records], [r.lat for r in records],
                                            [r.area_hint for r in records])
    placed: list[tuple[ShelterRecord, str]] = []
    for rec, area_id in zip(records, located, strict=True):
        if area_id is None:
            summary.rejected.append(Rejection(
                rec.location,
                f"point ({rec.lat:.6f}, {rec.lon:.6f}) lies outside every known area"))
        else:
            placed.append((rec, area_id))
    summary.rejected.sort(key=lambda r: _order(r.location))
    summary.near_duplicates = _near_duplicates(placed)
    if strict and summary.rejected:
        raise ImportRejected(f"{len(summary.rejected)} row(s) rejected; nothing imported "
                             f"(first: {summary.rejected[0]})", summary=summary)
    _write(session, placed, summary, now=now, actor=actor)
    return summary


def _order(location: str) -> tuple[str, int]:
    word, _, number = location.partition(" ")
    return (word, int(number)) if number.isdigit() else (location, 0)


def _write(session: Session, placed: list[tuple[ShelterRecord, str]], summary: ImportSummary,
           *, now: datetime, actor: str) -> None:
    log.lock(session)  # ids and seqs are allocated in one order, one writer at a time
    existing = {
        sid: (pk, fp) for sid, pk, fp in session.execute(
            select(Shelter.source_id, Shelter.id, Shelter.fingerprint)
            .where(Shelter.source == summary.source))
    }
    next_id = session.execute(select(func.coalesce(func.max(Shelter.id), 0))).scalar_one() + 1
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    facts: list[log.NewFact] = []
    facilities_json: dict[tuple[Any, ...], str] = {}
    source = summary.source
    created, new_fact = FactKind.SHELTER_CREATED, log.NewFact
    for rec, area_id in placed:
        values = _values(rec, area_id, facilities_json)
        fp = _fingerprint(values)
        private = {"owner": rec.owner} if rec.owner else None
        known = existing.get(rec.source_id)
        if known is None:
            inserts.append({"id": next_id, "source": source, "source_id": rec.source_id,
                            "fingerprint": fp, "created_at": now, "updated_at": now, **values})
            facts.append(new_fact(created, actor, public_payload(
                next_id, source, rec.source_id, values, rec), private))
            next_id += 1
        elif known[1] != fp:
            updates.append({"id": known[0], "fingerprint": fp, "updated_at": now, **values})
            facts.append(log.NewFact(FactKind.SHELTER_UPDATED, actor,
                                     public_payload(known[0], summary.source, rec.source_id,
                                                    values, rec), private))
        else:
            summary.unchanged += 1
    if inserts:
        bulk.insert(session, db.table_of(Shelter), inserts)
    if updates:
        session.execute(update(Shelter), updates)
    log.append_many(session, facts, now=now)
    summary.created, summary.updated = len(inserts), len(updates)
