"""Small helpers the evidence tests share: tokens on the test's database, a shelter to report."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from shelterwatch import db
from shelterwatch.areas.models import Area
from shelterwatch.auth import service as auth
from shelterwatch.clock import utcnow
from shelterwatch.shelters.models import Shelter


def token(url: str, role: str, shelter_ids: tuple[int, ...] = ()) -> str:
    with db.transaction(url) as s:
        _, plaintext = auth.create(s, role=role, name=f"test {role}", now=utcnow(),
                                   shelter_ids=shelter_ids)
    return plaintext


@dataclass(frozen=True)
class Place:
    id: int
    lat: float
    lon: float
    area_id: str


def kyiv_shelter(url: str, offset: int = 0) -> Place:
    """A shelter inside Kyiv city (area 31 or one of its districts)."""
    with db.reading(url) as s:
        kyiv = {"31", *s.execute(select(Area.id).where(Area.parent_id == "31")).scalars()}
        row = s.execute(select(Shelter).where(Shelter.area_id.in_(kyiv))
                        .order_by(Shelter.id).offset(offset).limit(1)).scalar_one()
        return Place(row.id, row.lat, row.lon, row.area_id)


def bearer(plaintext: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {plaintext}"}
