"""Walking distances over the street network of an OpenStreetMap extract, read offline.

osmium reads the extract (`.osm`, `.osm.pbf`) once: every way a pedestrian may use becomes edges
between its consecutive nodes, weighted by their great-circle length, in a scipy sparse graph.
Shortest paths run from each shelter's nearest street node, bounded by the walking horizon (scipy's
Dijkstra with `limit`), so the work grows with the shelters and the streets near them, not with
the square of the city. Steps are left out of the graph for reduced mobility: a wheelchair does
not climb them. Buildings in the same extract weigh where people live within a district.

A walk = cell centre → its nearest street node (straight) + the street path + the shelter's
nearest node → the shelter (straight).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import osmium
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from shelterwatch.coverage.grid import LocalProjection
from shelterwatch.coverage.reach import to_candidates
from shelterwatch.rules.coverage import Candidates, FloatArray, IntArray
from shelterwatch.rules.geo import great_circle_many

# Roads a pedestrian is not allowed on, or that do not exist yet.
NOT_WALKABLE = frozenset({"motorway", "motorway_link", "trunk", "trunk_link", "construction",
                          "proposed", "abandoned", "raceway", "bus_guideway", "razed"})
CELLS_PER_CHUNK = 20_000_000  # matrix entries per Dijkstra batch (~160 MB of float64)


@dataclass(slots=True)
class StreetNetwork:
    """Street nodes and edges; `steps` marks the edges left out for reduced mobility."""

    lat: FloatArray
    lon: FloatArray
    u: IntArray
    v: IntArray
    metres: FloatArray
    steps: np.ndarray
    buildings: list[tuple[float, float, float]] = field(default_factory=list)
    source: str = ""

    def graph(self, *, step_free: bool) -> csr_matrix:
        """The symmetric sparse graph; parallel edges keep the shortest."""
        keep = ~self.steps if step_free else np.ones(len(self.u), dtype=bool)
        u, v, w = self.u[keep], self.v[keep], self.metres[keep]
        a, b = np.minimum(u, v), np.maximum(u, v)
        order = np.lexsort((w, b, a))
        a, b, w = a[order], b[order], w[order]
        first = np.ones(len(a), dtype=bool)
        first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
        a, b, w = a[first], b[first], w[first]
        n = len(self.lat)
        return csr_matrix((np.concatenate([w, w]), (np.concatenate([a, b]),
                                                   np.concatenate([b, a]))), shape=(n, n))

    def nodes_in_use(self, *, step_free: bool) -> IntArray:
        keep = ~self.steps if step_free else np.ones(len(self.u), dtype=bool)
        used: IntArray = np.unique(np.concatenate([self.u[keep], self.v[keep]]))
        return used


class _Reader(osmium.SimpleHandler):
    def __init__(self) -> None:
        super().__init__()
        self.index: dict[int, int] = {}
        self.lat: list[float] = []
        self.lon: list[float] = []
        self.edges: list[tuple[int, int, bool]] = []
        self.buildings: list[tuple[float, float, float]] = []

    def _node(self, ref: int, lat: float, lon: float) -> int:
        found = self.index.get(ref)
        if found is None:
            found = self.index[ref] = len(self.lat)
            self.lat.append(lat)
            self.lon.append(lon)
        return found

    def way(self, w: Any) -> None:
        tags = w.tags
        highway = tags.get("highway")
        building = tags.get("building")
        if highway and highway not in NOT_WALKABLE and tags.get("foot") != "no" \
                and tags.get("access") not in ("no", "private"):
            try:
                points = [(n.ref, n.location.lat, n.location.lon) for n in w.nodes
                          if n.location.valid()]
            except osmium.InvalidLocationError:
                return
            ids = [self._node(ref, lat, lon) for ref, lat, lon in points]
            steps = highway == "steps"
            self.edges.extend((a, b, steps) for a, b in zip(ids, ids[1:], strict=False)
                              if a != b)
        elif building and building != "no":
            locs = [(n.location.lat, n.location.lon) for n in w.nodes if n.location.valid()]
            if locs:
                try:
                    levels = max(1.0, float(tags.get("building:levels", "1")))
                except ValueError:
                    levels = 1.0
                lat = sum(p[0] for p in locs) / len(locs)
                lon = sum(p[1] for p in locs) / len(locs)
                self.buildings.append((lat, lon, levels))


def read(path: Path) -> StreetNetwork:
    """Read the walkable streets and the buildings of an OSM extract."""
    if not path.is_file():
        raise FileNotFoundError(2, "no such file", str(path))
    reader = _Reader()
    try:
        reader.apply_file(str(path), locations=True)
    except RuntimeError as exc:
        raise ValueError(f"{path.name}: not a readable OSM extract ({exc})") from None
    if not reader.edges:
        raise ValueError(f"{path.name}: no walkable streets in this extract")
    e = np.asarray([(a, b) for a, b, _ in reader.edges], dtype=np.int64)
    lat = np.asarray(reader.lat)
    lon = np.asarray(reader.lon)
    metres = great_circle_many(lat[e[:, 0]], lon[e[:, 0]], lat[e[:, 1]], lon[e[:, 1]])
    steps = np.asarray([s for *_, s in reader.edges], dtype=bool)
    return StreetNetwork(lat, lon, e[:, 0], e[:, 1], metres, steps, reader.buildings,
                         source=path.name)


def _snap(net: StreetNetwork, nodes: IntArray, proj: LocalProjection, lat: FloatArray,
          lon: FloatArray) -> tuple[IntArray, FloatArray]:
    """Each point's nearest node among `nodes`, and the straight metres to it."""
    tree = cKDTree(proj.xy(net.lat[nodes], net.lon[nodes]))
    _, pos = tree.query(proj.xy(lat, lon))
    node = nodes[np.asarray(pos, dtype=np.int64)]
    return node, great_circle_many(lat, lon, net.lat[node], net.lon[node])


def candidates(net: StreetNetwork, cell_lat: FloatArray, cell_lon: FloatArray,
               shelter_lat: FloatArray, shelter_lon: FloatArray, *, horizon_m: float,
               step_free: bool, shelters: Sequence[int] | None = None) -> Candidates:
    """Every shelter (of `shelters`, default all) within `horizon_m` of walking, per cell."""
    n_cells = len(cell_lat)
    pick = (np.arange(len(shelter_lat), dtype=np.int64) if shelters is None
            else np.asarray(shelters, dtype=np.int64))
    if n_cells == 0 or len(pick) == 0:
        return to_candidates(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0),
                             n_cells)
    graph = net.graph(step_free=step_free)
    nodes = net.nodes_in_use(step_free=step_free)
    proj = LocalProjection.around(cell_lat, cell_lon)
    cell_node, cell_snap = _snap(net, nodes, proj, cell_lat, cell_lon)
    s_node, s_snap = _snap(net, nodes, proj, shelter_lat[pick], shelter_lon[pick])
    sources, row_of = np.unique(s_node, return_inverse=True)
    chunk = max(1, CELLS_PER_CHUNK // max(1, len(net.lat)))
    parts: list[tuple[IntArray, IntArray, FloatArray]] = []
    for start in range(0, len(sources), chunk):
        batch = sources[start:start + chunk]
        dist = dijkstra(graph, directed=False, indices=batch, limit=horizon_m)[:, cell_node]
        for k in np.flatnonzero((row_of >= start) & (row_of < start + len(batch))):
            total = dist[row_of[k] - start] + cell_snap + s_snap[k]
            hit = np.flatnonzero(total <= horizon_m)
            parts.append((hit.astype(np.int64), np.full(len(hit), pick[k], np.int64),
                          total[hit]))
    if not parts:
        return to_candidates(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0),
                             n_cells)
    return to_candidates(np.concatenate([p[0] for p in parts]),
                         np.concatenate([p[1] for p in parts]),
                         np.concatenate([p[2] for p in parts]), n_cells)
