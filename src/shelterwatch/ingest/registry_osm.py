"""OpenStreetMap extracts (.osm, .osm.pbf) through osmium.

Taken as shelters: `amenity=shelter` whose `shelter_type` is a place to take cover from attack
(not a bus stop or a picnic roof), `building=bunker`, `military=bunker`, and metro stations
tagged as shelters (`air_raid_shelter=yes` or `shelter=yes` on a subway station). Ways count by
the centre of their nodes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import osmium

from shelterwatch.ingest.mapping import ColumnMapping
from shelterwatch.ingest.records import Rejection, RowError, ShelterRecord
from shelterwatch.ingest.rows import RecordMaker

COVER_SHELTER_TYPES = {
    "bomb_shelter": "shelter", "air_raid_shelter": "shelter", "basement": "simple",
    "anti_radiation": "anti_radiation", "civil_defence": "shelter", "underground": "simple",
}
YES = {"yes", "true", "1"}


def kind_of(tags: Mapping[str, str]) -> str | None:
    """The DESIGN kind for these tags, or None when the object is not a place to take cover."""
    if tags.get("amenity") == "shelter":
        return COVER_SHELTER_TYPES.get(tags.get("shelter_type", ""))
    if tags.get("building") == "bunker" or tags.get("military") == "bunker":
        return "shelter"
    is_station = tags.get("station") == "subway" or tags.get("railway") == "subway_entrance"
    if is_station and (tags.get("air_raid_shelter") in YES or tags.get("shelter") in YES):
        return "metro"
    if tags.get("parking") == "underground" and tags.get("air_raid_shelter") in YES:
        return "parking"
    return None


class _Collector(osmium.SimpleHandler):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str], Any, Any]] = []

    def _take(self, ref: str, tags: Any, lat: Any, lon: Any) -> None:
        plain = {t.k: t.v for t in tags}
        if kind_of(plain):
            self.found.append((ref, plain, lat, lon))

    def node(self, n: Any) -> None:
        if len(n.tags):
            loc = n.location
            self._take(f"node/{n.id}", n.tags, loc.lat if loc.valid() else None,
                       loc.lon if loc.valid() else None)

    def way(self, w: Any) -> None:
        if not len(w.tags):
            return
        points = [(nd.lat, nd.lon) for nd in w.nodes if nd.location.valid()]
        if not points:
            self._take(f"way/{w.id}", w.tags, None, None)
            return
        self._take(f"way/{w.id}", w.tags, sum(p[0] for p in points) / len(points),
                   sum(p[1] for p in points) / len(points))


def _row(ref: str, tags: dict[str, str]) -> dict[str, Any]:
    street = " ".join(x for x in (tags.get("addr:street"), tags.get("addr:housenumber")) if x)
    address = ", ".join(x for x in (tags.get("addr:city"), street) if x)
    capacity = tags.get("capacity")
    step_free = {"yes": True, "no": False, "limited": False}.get(tags.get("wheelchair", ""))
    return {
        "id": ref, "name": tags.get("name:uk") or tags.get("name") or address or ref,
        "address": address, "kind": kind_of(tags), "capacity": capacity,
        "step_free": step_free, "owner": tags.get("operator"),
    }


def read(path: Path, mapping: ColumnMapping) -> Iterator[ShelterRecord | Rejection]:
    collector = _Collector()
    try:
        collector.apply_file(str(path), locations=True)
    except RuntimeError as exc:
        yield Rejection("file", f"not readable as OpenStreetMap data: {exc}")
        return
    maker = RecordMaker(mapping)
    for ref, tags, lat, lon in collector.found:
        try:
            yield maker.make(_row(ref, tags), location=ref, lat=lat, lon=lon)
        except RowError as exc:
            yield Rejection(ref, str(exc))
