"""Raions and hromadas from the ukrainealarm region tree, added under the shipped oblasts.

Most alerts since late 2025 are issued per raion or hromada, so the area tree needs them for an
alert to cover the right shelters. Their ids are the providers' region ids (the same numbers
alerts.in.ua uses as location UIDs); oblast ids are the foundation's and are left untouched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session

from shelterwatch.alerts import names
from shelterwatch.areas.models import Area
from shelterwatch.log import service as log
from shelterwatch.vocabulary import AreaLevel, FactKind

KYIV_CITY = "31"


@dataclass(frozen=True, slots=True)
class Region:
    id: str
    name: str
    level: AreaLevel
    parent_id: str | None
    oblast_id: str


@lru_cache(maxsize=1)
def tree() -> tuple[Region, ...]:
    """Every region of the bundled tree, parents before children."""
    text = (resources.files("shelterwatch.data.alerts")
            .joinpath("ukrainealarm_regions_v3.json").read_text("utf-8"))
    out: list[Region] = []
    for state in json.loads(text)["states"]:
        sid = str(state["stateId"])
        level = AreaLevel.CITY if sid == KYIV_CITY else AreaLevel.OBLAST
        out.append(Region(sid, state["stateName"], level, None, sid))
        for district in state["districts"]:
            did = str(district["districtId"])
            out.append(Region(did, district["districtName"], AreaLevel.RAION, sid, sid))
            for community in district["communities"]:
                out.append(Region(str(community["communityId"]), community["communityName"],
                                  AreaLevel.HROMADA, did, sid))
    return tuple(out)


@lru_cache(maxsize=1)
def by_latin_name() -> dict[tuple[str, str], str]:
    """(oblast id, Latin key of a raion or hromada name) -> region id."""
    return {(r.oblast_id, names.key(r.name)): r.id for r in tree() if r.parent_id is not None}


@lru_cache(maxsize=1)
def oblast_by_latin_name() -> dict[str, str]:
    """Latin key of an oblast name ("kyivska oblast", "kyiv city") -> its id."""
    out = {names.key(r.name): r.id for r in tree() if r.parent_id is None}
    out["kyiv city"] = KYIV_CITY
    out["m. kyiv"] = KYIV_CITY
    return out


def load(session: Session, *, now: datetime, actor: str = "system") -> int:
    """Add the raions and hromadas the registry lacks; returns how many were added.

    Only adds: an area already present (by id) is never renamed or re-parented.
    """
    have = set(session.execute(select(Area.id)).scalars())
    facts: list[log.NewFact] = []
    for region in tree():
        if region.parent_id is None or region.id in have:
            continue
        if region.parent_id not in have:
            continue  # an oblast the registry does not ship; its children would dangle
        session.add(Area(id=region.id, name=region.name, name_en=names.transliterate(region.name),
                         level=str(region.level), parent_id=region.parent_id, katottg=None,
                         geometry=None))
        have.add(region.id)
        facts.append(log.NewFact(FactKind.AREA_CREATED, actor, {
            "id": region.id, "name": region.name, "level": str(region.level),
            "parent_id": region.parent_id, "katottg": None}))
    session.flush()
    log.append_many(session, facts, now=now)
    return len(facts)
