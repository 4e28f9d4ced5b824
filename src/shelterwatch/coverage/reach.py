"""Walking distances from every cell to every shelter within the horizon: straight line × detour.

The estimate the resident page uses (`rules.ranking.WalkingModel`): great-circle distance times the
detour factor. A KD-tree over local metres finds each cell's neighbours; the distances themselves
are exact great circles. `coverage.network` replaces this with the street network of an OSM extract.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from shelterwatch.coverage.grid import LocalProjection
from shelterwatch.rules.coverage import Candidates, FloatArray, IntArray
from shelterwatch.rules.geo import great_circle_many


def to_candidates(cell: IntArray, shelter: IntArray, metres: FloatArray,
                  n_cells: int) -> Candidates:
    """Sort flat (cell, shelter, metres) triples into per-cell lists, nearest first."""
    order = np.lexsort((shelter, metres, cell))
    cell, shelter, metres = cell[order], shelter[order], metres[order]
    counts = np.bincount(cell, minlength=n_cells)
    indptr = np.zeros(n_cells + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return Candidates(indptr, shelter.astype(np.int64), metres.astype(np.float64))


def by_detour(cell_lat: FloatArray, cell_lon: FloatArray, shelter_lat: FloatArray,
              shelter_lon: FloatArray, *, detour: float, horizon_m: float) -> Candidates:
    """Every shelter whose estimated walk (great circle × detour) is within `horizon_m`."""
    n_cells = len(cell_lat)
    if len(shelter_lat) == 0 or n_cells == 0:
        return to_candidates(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0),
                             n_cells)
    proj = LocalProjection.around(cell_lat, cell_lon)
    tree = cKDTree(proj.xy(shelter_lat, shelter_lon))
    # 1 % slack: the flat projection may shorten a distance slightly; exact metres decide below.
    radius = horizon_m / detour * 1.01
    hits = tree.query_ball_point(proj.xy(cell_lat, cell_lon), r=radius)
    counts = np.fromiter((len(h) for h in hits), dtype=np.int64, count=n_cells)
    cell = np.repeat(np.arange(n_cells, dtype=np.int64), counts)
    shelter = (np.concatenate([np.asarray(h, dtype=np.int64) for h in hits])
               if counts.sum() else np.zeros(0, np.int64))
    metres = great_circle_many(cell_lat[cell], cell_lon[cell], shelter_lat[shelter],
                            shelter_lon[shelter]) * detour
    keep = metres <= horizon_m
    return to_candidates(cell[keep], shelter[keep], metres[keep], n_cells)


def subset(candidates: Candidates, keep_shelter: np.ndarray, max_metres: float) -> Candidates:
    """The same lists restricted to some shelters and a shorter horizon (order is kept)."""
    cell = candidates.cell_of_entry()
    keep = keep_shelter[candidates.shelter] & (candidates.metres <= max_metres) \
        if len(candidates.shelter) else np.zeros(0, dtype=bool)
    return to_candidates(cell[keep], candidates.shelter[keep], candidates.metres[keep],
                         candidates.n_cells)
