"""The extract's streets and house numbers, for the offline address search (search.js).

A street keeps its current name, its English name and its former names (`old_name`, which
OpenStreetMap mappers add when a street is renamed), so "Пушкінська 20" still finds the house
after the street became "Євгена Чикаленка". Coordinates are rounded to about a metre.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import osmium

PLACES = 5


@dataclass(slots=True)
class Street:
    name: str
    en: str = ""
    old: list[str] = field(default_factory=list)
    point: tuple[float, float] = (0.0, 0.0)  # lat, lon: a node in the middle of its longest way
    length: int = 0


@dataclass(slots=True)
class Found:
    streets: dict[str, Street] = field(default_factory=dict)
    addresses: list[tuple[str, str, float, float]] = field(default_factory=list)
    bbox: list[float] | None = None  # min lon, min lat, max lon, max lat

    def extend(self, lon: float, lat: float) -> None:
        if self.bbox is None:
            self.bbox = [lon, lat, lon, lat]
        else:
            b = self.bbox
            b[0], b[1], b[2], b[3] = min(b[0], lon), min(b[1], lat), max(b[2], lon), max(b[3], lat)

    def gazetteer(self) -> dict[str, Any]:
        return {
            "attribution": "© OpenStreetMap contributors, ODbL 1.0",
            "streets": [{"name": s.name, "en": s.en, "old": s.old,
                         "lat": round(s.point[0], PLACES), "lon": round(s.point[1], PLACES)}
                        for s in sorted(self.streets.values(), key=lambda s: s.name)],
            "addresses": [[street, house, round(lat, PLACES), round(lon, PLACES)]
                          for street, house, lat, lon in sorted(self.addresses)],
        }


def _names(value: str) -> list[str]:
    return [v.strip() for v in value.split(";") if v.strip()]


def read(path: Path) -> Found:
    """One pass over the (filtered) extract, with node locations for the ways."""
    found = Found()
    for obj in osmium.FileProcessor(str(path)).with_locations():
        tags = obj.tags
        if isinstance(obj, osmium.osm.Node):
            if not obj.location.valid():
                continue
            lon, lat = obj.location.lon, obj.location.lat
            found.extend(lon, lat)
            if "addr:housenumber" in tags and "addr:street" in tags:
                found.addresses.append((tags["addr:street"], tags["addr:housenumber"], lat, lon))
        elif isinstance(obj, osmium.osm.Way):
            points = [(n.location.lat, n.location.lon) for n in obj.nodes if n.location.valid()]
            if not points:
                continue
            if "highway" in tags and "name" in tags:
                _street(found, tags, points)
            if "addr:housenumber" in tags and "addr:street" in tags:
                ring = points[:-1] if len(points) > 1 and points[0] == points[-1] else points
                lat = sum(p[0] for p in ring) / len(ring)
                lon = sum(p[1] for p in ring) / len(ring)
                found.addresses.append((tags["addr:street"], tags["addr:housenumber"], lat, lon))
    return found


def _street(found: Found, tags: Any, points: list[tuple[float, float]]) -> None:
    name = tags["name"]
    street = found.streets.setdefault(name, Street(name))
    street.en = street.en or tags.get("name:en", "")
    for old in _names(tags.get("old_name", "")):
        if old not in street.old:
            street.old.append(old)
    if len(points) > street.length:
        street.point, street.length = points[len(points) // 2], len(points)
