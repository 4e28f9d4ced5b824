"""Loading and reading areas; every change appends a fact."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shelterwatch.areas import bundled
from shelterwatch.areas.locator import AreaLocator
from shelterwatch.areas.models import Area
from shelterwatch.errors import NotFound
from shelterwatch.log import service as log
from shelterwatch.vocabulary import FactKind


def load_bundled(session: Session, *, now: datetime, actor: str = "system") -> dict[str, int]:
    """Upsert the shipped areas; returns created / updated / unchanged counts."""
    existing = {a.id: a for a in session.execute(select(Area)).scalars()}
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    facts: list[log.NewFact] = []
    for rec in bundled.records():
        geometry = json.dumps(rec.geometry, separators=(",", ":")) if rec.geometry else None
        values = {"name": rec.name, "name_en": rec.name_en, "level": str(rec.level),
                  "parent_id": rec.parent_id, "katottg": rec.katottg, "geometry": geometry}
        area = existing.get(rec.id)
        if area is None:
            session.add(Area(id=rec.id, **values))
            session.flush()
            counts["created"] += 1
            kind = FactKind.AREA_CREATED
        elif any(getattr(area, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(area, k, v)
            counts["updated"] += 1
            kind = FactKind.AREA_UPDATED
        else:
            counts["unchanged"] += 1
            continue
        facts.append(log.NewFact(kind, actor, {"id": rec.id, "name": rec.name,
                                               "level": str(rec.level),
                                               "parent_id": rec.parent_id,
                                               "katottg": rec.katottg}))
    log.append_many(session, facts, now=now)
    return counts


def list_all(session: Session) -> Sequence[Area]:
    return session.execute(select(Area).order_by(Area.level, Area.id)).scalars().all()


def get_or_raise(session: Session, area_id: str) -> Area:
    area = session.get(Area, area_id)
    if area is None:
        raise NotFound(f"area {area_id!r} does not exist")
    return area


def ancestors_of(session: Session, area_id: str) -> list[str]:
    """The area and every area above it, nearest first; an alert on any of them covers it."""
    parents = dict(session.execute(select(Area.id, Area.parent_id)).all())
    chain: list[str] = []
    current: str | None = area_id
    while current is not None and current not in chain:
        chain.append(current)
        current = parents.get(current)
    return chain


def covered_by(session: Session, area_id: str) -> list[str]:
    """The area and every area below it: those an alert on `area_id` covers (one query)."""
    parents = dict(session.execute(select(Area.id, Area.parent_id)).all())
    covered: dict[str, bool] = {area_id: True}

    def under(current: str | None, seen: tuple[str, ...] = ()) -> bool:
        if current is None or current in seen:
            return False
        if current not in covered:
            covered[current] = under(parents.get(current), (*seen, current))
        return covered[current]

    return sorted(a for a in parents if under(a)) or [area_id]


def locator(session: Session) -> AreaLocator:
    """A point locator over every area that has a polygon."""
    rows = session.execute(
        select(Area.id, Area.name, Area.name_en, Area.geometry).where(Area.geometry.is_not(None))
    ).all()
    return AreaLocator.from_geojson([(i, n, e, json.loads(g)) for i, n, e, g in rows if g])
