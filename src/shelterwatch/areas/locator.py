"""Which area a point lies in: the smallest area containing it, or the one its source names.

A registry's own district field is trusted when the point lies within `hint_tolerance_m` of that
district, because boundaries get redrawn and a shelter on the border line belongs where the city
says it does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from shelterwatch.areas.bundled import normalise_name

METRES_PER_DEGREE = 111_320.0


@dataclass(frozen=True, slots=True)
class LocatableArea:
    id: str
    name: str
    name_en: str
    geometry: BaseGeometry


class AreaLocator:
    def __init__(self, areas: Sequence[LocatableArea], hint_tolerance_m: float = 1500.0) -> None:
        self.areas = list(areas)
        self.geoms = [a.geometry for a in self.areas]
        # Smaller areas first, so the first hit is the most specific.
        self.size_rank = np.argsort(np.argsort([g.area for g in self.geoms]))
        self.tree = shapely.STRtree(self.geoms)
        self.tolerance_deg = hint_tolerance_m / METRES_PER_DEGREE
        self.by_name: dict[str, int] = {}
        for i, a in enumerate(self.areas):
            for name in {a.name, a.name_en, a.id}:
                if name:
                    self.by_name[normalise_name(name)] = i
                    short = normalise_name(name).removesuffix(" район").removesuffix(" district")
                    self.by_name.setdefault(short, i)

    @classmethod
    def from_geojson(cls, rows: Sequence[tuple[str, str, str, dict[str, object]]]) -> AreaLocator:
        return cls([LocatableArea(i, n, e, shape(g)) for i, n, e, g in rows])

    def locate(self, lons: Sequence[float], lats: Sequence[float],
               hints: Sequence[str | None] | None = None) -> list[str | None]:
        """The area id for each point, or None when it lies in no known area."""
        n = len(lons)
        points = shapely.points(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float))
        best: list[int | None] = [None] * n
        point_idx, area_idx = self.tree.query(points, predicate="intersects")
        for p, a in zip(point_idx.tolist(), area_idx.tolist(), strict=True):
            current = best[p]
            if current is None or self.size_rank[a] < self.size_rank[current]:
                best[p] = a
        if hints is not None:
            for p, hint in enumerate(hints):
                if not hint:
                    continue
                idx = self.by_name.get(normalise_name(hint))
                if idx is None or best[p] == idx:
                    continue
                if shapely.distance(self.geoms[idx], points[p]) <= self.tolerance_deg:
                    best[p] = idx
        return [self.areas[i].id if i is not None else None for i in best]
