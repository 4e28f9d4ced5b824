"""The hexagonal grid over an area: H3 cells at resolution 9 (~0.1 km²), each in one district.

H3 gives every place on Earth the same cell id in every run and every tool (Kontur's population
grid is published on it), so a planner can join our cells with anybody's. A cell belongs to the
district whose polygon contains its centre — H3's own polyfill rule — so districts never share a
cell and the people of a cell are counted once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import h3
import numpy as np

from shelterwatch.rules.coverage import FloatArray, IntArray
from shelterwatch.rules.geo import EARTH_RADIUS_M

RESOLUTION = 9


@dataclass(frozen=True, slots=True)
class District:
    """A part of the area that figures are summed over (a city district, or the area itself)."""

    id: str
    name: str
    name_en: str
    geometry: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Grid:
    """Cells (H3 ids) with their centres and district index, in one stable order."""

    area_id: str
    cells: Sequence[str]
    lat: FloatArray
    lon: FloatArray
    district: IntArray
    districts: Sequence[District]

    def __len__(self) -> int:
        return len(self.cells)

    def position(self) -> dict[str, int]:
        """Cell id → its row, for joining inputs keyed by H3 id."""
        return {c: i for i, c in enumerate(self.cells)}

    def locate(self, lat: float, lon: float) -> int | None:
        """The row of the cell a point falls in, or None outside the area."""
        return self.position().get(h3.latlng_to_cell(lat, lon, RESOLUTION))


def build(area_id: str, districts: Sequence[District]) -> Grid:
    """Cover each district's polygon with resolution-9 cells; the first district wins a tie."""
    cells: list[str] = []
    owner: list[int] = []
    seen: set[str] = set()
    for d_index, district in enumerate(districts):
        shape = h3.geo_to_h3shape(dict(district.geometry))
        for cell in sorted(h3.h3shape_to_cells(shape, RESOLUTION)):
            if cell not in seen:
                seen.add(cell)
                cells.append(cell)
                owner.append(d_index)
    centres = [h3.cell_to_latlng(c) for c in cells]
    return Grid(area_id, cells,
                np.asarray([c[0] for c in centres], dtype=np.float64),
                np.asarray([c[1] for c in centres], dtype=np.float64),
                np.asarray(owner, dtype=np.int64), list(districts))


def boundary(cell: str) -> list[list[float]]:
    """The cell's outline as a closed GeoJSON ring of [lon, lat]."""
    ring = [[round(lon, 7), round(lat, 7)] for lat, lon in h3.cell_to_boundary(cell)]
    return [*ring, ring[0]]


@dataclass(frozen=True, slots=True)
class LocalProjection:
    """Equirectangular metres about the area's centre: exact enough within a city for a KD-tree
    to find neighbours, which are then measured by great circle."""

    lat0: float
    lon0: float

    @classmethod
    def around(cls, lat: FloatArray, lon: FloatArray) -> LocalProjection:
        if len(lat) == 0:
            return cls(0.0, 0.0)
        return cls(float(np.mean(lat)), float(np.mean(lon)))

    def xy(self, lat: FloatArray, lon: FloatArray) -> FloatArray:
        k = math.radians(1.0) * EARTH_RADIUS_M
        x = (np.asarray(lon) - self.lon0) * k * math.cos(math.radians(self.lat0))
        y = (np.asarray(lat) - self.lat0) * k
        out: FloatArray = np.column_stack([x, y]) if len(x) else np.zeros((0, 2))
        return out
