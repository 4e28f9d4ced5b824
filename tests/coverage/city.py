"""A small synthetic city on the equator: a 21 × 21 grid of streets 0.001° apart, a railway that
splits it with one crossing, three shelters at street corners, and known people per cell.

On the equator a 0.001° street is 111.195 m whichever way it runs (to the micrometre), so every
walk can be worked out by hand: from the cell's centre to its nearest corner in a straight line,
then along the streets, going round by the crossing when the railway is in the way.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import h3
from sqlalchemy.orm import Session

from shelterwatch.areas.models import Area
from shelterwatch.clock import utcnow
from shelterwatch.ingest.records import ShelterRecord
from shelterwatch.shelters import importer
from shelterwatch.vocabulary import AreaLevel, ShelterKind

R = 6_371_008.8
N = 21  # corners per side
STEP = 0.001  # degrees between streets
LAT0, LON0 = 0.0, 20.0
RAIL_COL = 10  # no street crosses between column 10 and 11 ...
CROSSING_ROW = 0  # ... except along the southernmost row
EDGE_M = R * math.radians(STEP)
CITY = "SYN"
WEST, EAST = "SYN-W", "SYN-E"


@dataclass(frozen=True)
class Shelter:
    source_id: str
    row: int
    col: int
    capacity: int
    step_free: bool

    @property
    def lat(self) -> float:
        return LAT0 + self.row * STEP

    @property
    def lon(self) -> float:
        return LON0 + self.col * STEP


SHELTERS = (Shelter("w", 4, 3, 400, False), Shelter("e", 15, 16, 250, False),
            Shelter("sw", 16, 6, 120, True))


def corner(row: int, col: int) -> tuple[float, float]:
    return LAT0 + row * STEP, LON0 + col * STEP


def great_circle(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * R * math.asin(math.sqrt(h))


def streets_between(a: tuple[int, int], b: tuple[int, int]) -> int:
    """Blocks walked between two corners: Manhattan, or round by the crossing over the railway."""
    (r1, c1), (r2, c2) = a, b
    if (c1 <= RAIL_COL) == (c2 <= RAIL_COL):
        return abs(r1 - r2) + abs(c1 - c2)
    return abs(r1 - CROSSING_ROW) + abs(r2 - CROSSING_ROW) + abs(c1 - c2)


def nearest_corner(lat: float, lon: float) -> tuple[tuple[int, int], float]:
    best = min(((r, c) for r in range(N) for c in range(N)),
               key=lambda rc: great_circle(lat, lon, *corner(*rc)))
    return best, great_circle(lat, lon, *corner(*best))


def walk_m(cell: str, shelter: Shelter) -> float:
    """The walk by hand: straight to the nearest corner, then the streets."""
    lat, lon = h3.cell_to_latlng(cell)
    at, snap = nearest_corner(lat, lon)
    return snap + streets_between(at, (shelter.row, shelter.col)) * EDGE_M


def write_osm(path: Path) -> Path:
    """The street grid as an OSM XML extract (one way per street, split at the railway)."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']

    def nid(r: int, c: int) -> int:
        return 1 + r * N + c

    for r in range(N):
        for c in range(N):
            lat, lon = corner(r, c)
            lines.append(f'<node id="{nid(r, c)}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>')
    way = 1000

    def add(refs: list[int], tags: dict[str, str]) -> None:
        nonlocal way
        way += 1
        lines.append(f'<way id="{way}" version="1">')
        lines.extend(f'<nd ref="{ref}"/>' for ref in refs)
        lines.extend(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        lines.append("</way>")

    for r in range(N):  # east-west streets, cut by the railway except on the crossing row
        if r == CROSSING_ROW:
            add([nid(r, c) for c in range(N)], {"highway": "residential"})
        else:
            add([nid(r, c) for c in range(RAIL_COL + 1)], {"highway": "residential"})
            add([nid(r, c) for c in range(RAIL_COL + 1, N)], {"highway": "residential"})
    for c in range(N):
        add([nid(r, c) for r in range(N)], {"highway": "footway"})
    # A motorway beside the railway: people may not walk on it, so it must not shorten any walk.
    add([nid(N - 1, RAIL_COL), nid(N - 1, RAIL_COL + 1)], {"highway": "motorway"})
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _rect(lon1: float, lon2: float) -> dict[str, object]:
    lat1, lat2 = LAT0 - STEP / 2, LAT0 + (N - 1) * STEP + STEP / 2
    return {"type": "Polygon", "coordinates": [[[lon1, lat1], [lon2, lat1], [lon2, lat2],
                                                [lon1, lat2], [lon1, lat1]]]}


MID_LON = LON0 + (RAIL_COL + 0.5) * STEP


def install(session: Session) -> None:
    """The city (two districts either side of the railway) and its three shelters."""
    west_lon, east_lon = LON0 - STEP / 2, LON0 + (N - 1) * STEP + STEP / 2
    session.add(Area(id=CITY, name="Синтетичне", name_en="Synthetic", level=AreaLevel.CITY,
                     parent_id=None, geometry=json.dumps(_rect(west_lon, east_lon))))
    session.flush()
    session.add_all([
        Area(id=WEST, name="Захід", name_en="West", level=AreaLevel.DISTRICT, parent_id=CITY,
             geometry=json.dumps(_rect(west_lon, MID_LON))),
        Area(id=EAST, name="Схід", name_en="East", level=AreaLevel.DISTRICT, parent_id=CITY,
             geometry=json.dumps(_rect(MID_LON, east_lon))),
    ])
    session.flush()
    records = [ShelterRecord(location=f"row {i}", source_id=s.source_id,
                             name=f"Shelter {s.source_id}", address=f"corner {s.row}/{s.col}",
                             lat=s.lat, lon=s.lon, kind=ShelterKind.SIMPLE,
                             capacity=s.capacity, step_free=s.step_free)
               for i, s in enumerate(SHELTERS)]
    importer.import_records(session, records, source="synthetic", now=utcnow())


def population_csv(path: Path, cells: list[str]) -> tuple[Path, dict[str, int]]:
    """Kontur-format people per cell (10 × position + 7), plus one row outside the city."""
    people = {c: 10 * i + 7 for i, c in enumerate(sorted(cells))}
    outside = h3.latlng_to_cell(LAT0 + 0.5, LON0 + 0.5, 9)
    rows = ["h3,population", *(f"{c},{p}" for c, p in people.items()), f"{outside},5000"]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path, people
