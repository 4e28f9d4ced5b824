"""Reading the registry, and shaping shelters for the public (never with private fields)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shelterwatch.errors import InvalidInput, NotFound
from shelterwatch.ingest.mapping import CARD_FIELDS
from shelterwatch.shelters.models import Shelter

MAX_PAGE = 1000


@dataclass(frozen=True, slots=True)
class BBox:
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    @classmethod
    def parse(cls, text: str) -> BBox:
        """`minLon,minLat,maxLon,maxLat` in WGS84, as OGC API and DESIGN §5 spell it."""
        parts = text.split(",")
        if len(parts) != 4:
            raise InvalidInput("bbox must be minLon,minLat,maxLon,maxLat (4 numbers)")
        try:
            a, b, c, d = (float(p) for p in parts)
        except ValueError:
            raise InvalidInput(f"bbox has a value that is not a number: {text!r}") from None
        if not (-180 <= a <= 180 and -180 <= c <= 180 and -90 <= b <= 90 and -90 <= d <= 90):
            raise InvalidInput("bbox coordinates out of range (lon ±180, lat ±90)")
        if a > c or b > d:
            raise InvalidInput("bbox minimum exceeds maximum")
        return cls(a, b, c, d)


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = text.partition(":")
        if kind != "id":
            raise ValueError(kind)
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput(f"cursor {cursor!r} is not one this server issued") from None


def list_page(session: Session, *, bbox: BBox | None, limit: int,
              after_id: int = 0) -> tuple[Sequence[Shelter], int | None]:
    """One page in id order and the id to continue after (None on the last page)."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
    query = select(Shelter).where(Shelter.id > after_id).order_by(Shelter.id).limit(limit + 1)
    if bbox is not None:
        query = query.where(Shelter.lon.between(bbox.min_lon, bbox.max_lon),
                            Shelter.lat.between(bbox.min_lat, bbox.max_lat))
    rows = session.execute(query).scalars().all()
    if len(rows) > limit:
        return rows[:limit], rows[limit - 1].id
    return rows, None


def get_or_raise(session: Session, shelter_id: int) -> Shelter:
    shelter = session.get(Shelter, shelter_id)
    if shelter is None:
        raise NotFound(f"shelter {shelter_id} does not exist")
    return shelter


def missing(session: Session, shelter_ids: Iterable[int]) -> list[int]:
    """Which of these shelter ids name no shelter (for anything that binds to shelters)."""
    wanted = sorted(set(shelter_ids))
    if not wanted:
        return []
    found = set(session.execute(select(Shelter.id).where(Shelter.id.in_(wanted))).scalars())
    return [i for i in wanted if i not in found]


def require_existing(session: Session, shelter_ids: Iterable[int], field: str) -> None:
    """Refuse ids that name no shelter, naming them."""
    absent = missing(session, shelter_ids)
    if absent:
        raise InvalidInput(f"{field}: no shelter with id {', '.join(map(str, absent[:10]))}")


def count_by_area(session: Session) -> dict[str, int]:
    return dict(session.execute(
        select(Shelter.area_id, func.count()).group_by(Shelter.area_id)).all())


def card_fields(details: str | None) -> dict[str, str]:
    """The shelter card's public extras from the registry's details: pets, entrances, the
    owner's door-sign phone, the registry's date. Only these names; nothing else in details."""
    if not details or details == "{}":
        return {}
    values = orjson.loads(details)
    return {k: str(values[k]) for k in CARD_FIELDS if values.get(k)}


def public_properties(shelter: Shelter) -> dict[str, Any]:
    """Fields anyone may read. The owner and keyholders are deliberately absent."""
    return {
        "id": shelter.id, "name": shelter.name, "address": shelter.address,
        "kind": shelter.kind, "capacity": shelter.capacity, "step_free": shelter.step_free,
        "obligation": shelter.obligation, "facilities": orjson.loads(shelter.facilities),
        "area_id": shelter.area_id, "source": shelter.source,
        "card": card_fields(shelter.details),
    }


def feature(shelter: Shelter, **extra: Any) -> dict[str, Any]:
    """A GeoJSON Feature (coordinates lon, lat) with public properties plus `extra`."""
    return {
        "type": "Feature", "id": shelter.id,
        "geometry": {"type": "Point", "coordinates": [shelter.lon, shelter.lat]},
        "properties": {**public_properties(shelter), **extra},
    }
