"""An in-memory spatial index of the registry and each shelter's status, kept current from the log.

A country's shelters are a few megabytes (DESIGN §6), so every API process holds them all and
answers "which shelters are nearest?" without touching the database. Points are kept sorted by
latitude: a query takes the latitude band around the resident with a binary search, keeps the points
inside a longitude window with one vectorised comparison, and ranks those by exact great-circle
distance. The window grows until it provably holds the k nearest, so the answer equals a
brute-force ranking of the whole registry.

The index follows the fact log (`FactKind.SHELTER_CREATED`, `SHELTER_UPDATED`, `STATUS_CHANGED`,
and the audits' `READINESS_CHANGED`, `SHELTER_GHOSTED`, `SHELTER_RESTORED`), so an import, a status
change or an audit made by any process shows in the next answer. A ghost (an audit found no
shelter there) is kept aside, out of every look-up, until a later audit restores it.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from shelterwatch.log import service as log
from shelterwatch.log.models import Fact
from shelterwatch.rules.geo import EARTH_RADIUS_M
from shelterwatch.shelters.models import Shelter
from shelterwatch.vocabulary import FactKind, Status

logger = logging.getLogger(__name__)

# A window whose half-width is d radians of latitude holds every point closer than SAFETY·R·d;
# the 1 % margin covers the small-angle approximations for windows up to ~10°.
SAFETY = 0.99
MAX_WINDOW_RAD = math.radians(10.0)
START_WINDOW_RAD = math.radians(0.01)  # about 1.1 km: a city block's worth of shelters
PUBLIC_KEYS = ("id", "name", "address", "kind", "capacity", "step_free", "obligation",
               "facilities", "area_id", "source")
STATUS_KINDS = (FactKind.STATUS_CHANGED,)
_STATUS_VALUES = frozenset(s.value for s in Status)


@dataclass(frozen=True, slots=True)
class IndexedShelter:
    """One shelter as the index keeps it: where it is, and its public properties."""

    id: int
    lat: float
    lon: float
    area_id: str
    step_free: bool | None
    capacity: int | None
    properties: Mapping[str, Any]

    @classmethod
    def from_public(cls, values: Mapping[str, Any]) -> IndexedShelter:
        """From a shelter fact's payload (or public properties plus lat/lon)."""
        props = {key: values.get(key) for key in PUBLIC_KEYS}
        return cls(id=int(values["id"]), lat=float(values["lat"]), lon=float(values["lon"]),
                   area_id=str(values["area_id"]), step_free=values.get("step_free"),
                   capacity=values.get("capacity"), properties=props)

    def feature(self, **extra: Any) -> dict[str, Any]:
        """The GeoJSON Feature the public API returns, with `extra` properties (e.g. status)."""
        return {
            "type": "Feature", "id": self.id,
            "geometry": {"type": "Point", "coordinates": [self.lon, self.lat]},
            "properties": {**self.properties, **extra},
        }


class _Snapshot:
    """Immutable arrays over one version of the registry; replaced whole on change."""

    __slots__ = ("shelters", "lat_deg", "lon_deg", "lat_rad", "lon_rad", "cos_lat")

    def __init__(self, shelters: Sequence[IndexedShelter]) -> None:
        ordered = sorted(shelters, key=lambda s: s.lat)
        self.shelters = ordered
        self.lat_deg = np.fromiter((s.lat for s in ordered), dtype=np.float64, count=len(ordered))
        self.lon_deg = np.fromiter((s.lon for s in ordered), dtype=np.float64, count=len(ordered))
        self.lat_rad = np.radians(self.lat_deg)
        self.lon_rad = np.radians(self.lon_deg)
        self.cos_lat = np.cos(self.lat_rad)

    def _distances(self, idx: np.ndarray | slice, lat: float, lon: float) -> np.ndarray:
        p, lam = math.radians(lat), math.radians(lon)
        dlat = self.lat_rad[idx] - p
        dlon = self.lon_rad[idx] - lam
        h = np.sin(dlat * 0.5) ** 2 + math.cos(p) * self.cos_lat[idx] * np.sin(dlon * 0.5) ** 2
        out: np.ndarray = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(h, 1.0)))
        return out

    def _window(self, lat: float, lon: float, half_rad: float) -> np.ndarray:
        """Positions inside the lat/lon window that holds every point within half_rad of arc."""
        half_deg = math.degrees(half_rad)
        lo, hi = np.searchsorted(self.lat_deg, (lat - half_deg, lat + half_deg))
        worst_lat = min(abs(lat) + half_deg, 89.9)
        lon_half = min(half_deg / math.cos(math.radians(worst_lat)), 180.0)
        band = self.lon_deg[lo:hi] - lon
        # Wrap across the antimeridian so a window never misses points on the other side.
        if lon_half >= 180.0 or abs(lon) + lon_half > 180.0:
            band = (band + 180.0) % 360.0 - 180.0
        inside: np.ndarray = np.flatnonzero(np.abs(band) <= lon_half) + lo
        return inside

    def nearest(self, lat: float, lon: float, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Positions and distances (metres) of the k nearest points, nearest first."""
        n = len(self.shelters)
        k = min(k, n)
        if k <= 0:
            return np.empty(0, dtype=np.intp), np.empty(0)
        half = START_WINDOW_RAD
        while half < MAX_WINDOW_RAD:
            idx = self._window(lat, lon, half)
            if len(idx) >= k:
                dist = self._distances(idx, lat, lon)
                kth = np.partition(dist, k - 1)[k - 1] if len(idx) > k else dist.max()
                if kth <= SAFETY * EARTH_RADIUS_M * half:
                    return _smallest(idx, dist, k)
                # Enough points but some farther than the window guarantees: one exact pass.
                half = kth / (SAFETY * EARTH_RADIUS_M) * 1.0001
                if half < MAX_WINDOW_RAD:
                    idx = self._window(lat, lon, half)
                    return _smallest(idx, self._distances(idx, lat, lon), k)
                break
            # Too few points: widen by the density seen so far (at least double).
            grow = math.sqrt(k / max(len(idx), 1)) * 1.5
            half *= max(2.0, min(grow, 16.0))
        everything = np.arange(n)
        return _smallest(everything, self._distances(everything, lat, lon), k)


def _smallest(idx: np.ndarray, dist: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    if len(idx) > k:
        part = np.argpartition(dist, k - 1)[:k]
        idx, dist = idx[part], dist[part]
    order = np.argsort(dist, kind="stable")
    return idx[order], dist[order]


class ShelterIndex:
    """The registry and statuses in memory; `apply` is a LogFollower subscriber."""

    def __init__(self, shelters: Iterable[IndexedShelter] = (),
                 statuses: Mapping[int, str] | None = None, *,
                 readiness: Mapping[int, Mapping[str, Any]] | None = None,
                 ghost_ids: Iterable[int] = (),
                 shared_statuses: dict[int, Status] | None = None) -> None:
        """`shared_statuses` is a status projection kept by someone else (the API process's
        status board): the index reads it and does not follow status facts itself."""
        everything = {s.id: s for s in shelters}
        ghosts = set(ghost_ids)
        self.ghosts: dict[int, IndexedShelter] = {
            sid: s for sid, s in everything.items() if sid in ghosts}
        self._by_id: dict[int, IndexedShelter] = {
            sid: s for sid, s in everything.items() if sid not in ghosts}
        self.readiness: dict[int, Mapping[str, Any]] = dict(readiness or {})
        self._snapshot = _Snapshot(list(self._by_id.values()))
        self._follows_statuses = shared_statuses is None
        self.statuses: dict[int, Status] = shared_statuses if shared_statuses is not None else {
            sid: Status(v) for sid, v in (statuses or {}).items()}
        self._write_lock = threading.Lock()
        self.version = 0  # bumps on every registry or status change (ETag-friendly)

    def __len__(self) -> int:
        return len(self._snapshot.shelters)

    @classmethod
    def load(cls, session: Session,
             statuses: Mapping[int, str] | None = None, *,
             readiness: Mapping[int, Mapping[str, Any]] | None = None,
             ghost_ids: Iterable[int] = (),
             shared_statuses: dict[int, Status] | None = None) -> tuple[ShelterIndex, int]:
        """Read the registry (and statuses from the log unless given); returns the index and
        the log seq it reflects."""
        seq = log.last_seq(session)
        rows = session.execute(
            select(Shelter.id, Shelter.lat, Shelter.lon, Shelter.name, Shelter.address,
                   Shelter.kind, Shelter.capacity, Shelter.step_free, Shelter.obligation,
                   Shelter.facilities, Shelter.area_id, Shelter.source)).mappings().all()
        shelters = [IndexedShelter.from_public(
            {**row, "facilities": orjson.loads(row["facilities"] or "[]")}) for row in rows]
        if shared_statuses is not None:
            return cls(shelters, readiness=readiness, ghost_ids=ghost_ids,
                       shared_statuses=shared_statuses), seq
        if statuses is None:
            statuses = _statuses_from_log(session, seq)
        return cls(shelters, statuses, readiness=readiness, ghost_ids=ghost_ids), seq

    def nearest(self, lat: float, lon: float, k: int) -> list[tuple[IndexedShelter, float]]:
        """The k nearest shelters by great-circle distance, nearest first."""
        snap = self._snapshot  # one consistent version even if a reload swaps it meanwhile
        idx, dist = snap.nearest(lat, lon, k)
        shelters = snap.shelters
        return [(shelters[i], d) for i, d in zip(idx.tolist(), dist.tolist(), strict=True)]

    def get(self, shelter_id: int) -> IndexedShelter | None:
        return self._by_id.get(shelter_id)

    def all(self) -> Sequence[IndexedShelter]:
        return self._snapshot.shelters

    def readiness_of(self, shelter_id: int) -> Mapping[str, Any] | None:
        """The audits' readiness of a shelter (None: never audited)."""
        return self.readiness.get(shelter_id)

    def is_ghost(self, shelter_id: int) -> bool:
        return shelter_id in self.ghosts

    def status_of(self, shelter_id: int) -> Status:
        return self.statuses.get(shelter_id, Status.UNKNOWN)

    def set_status(self, shelter_id: int, status: Status | str) -> None:
        self.statuses[shelter_id] = Status(status)
        self.version += 1

    def upsert(self, shelters: Iterable[IndexedShelter], removed: Iterable[int] = ()) -> None:
        """Add or replace shelters (and drop removed ones), then swap in a new snapshot."""
        with self._write_lock:
            by_id = dict(self._by_id)
            for s in shelters:
                by_id[s.id] = s
            for sid in removed:
                by_id.pop(sid, None)
            snapshot = _Snapshot(list(by_id.values()))
            self._by_id, self._snapshot = by_id, snapshot
            self.version += 1

    def _set_ghost(self, shelter_id: int, ghost: bool) -> None:
        """Take a shelter out of every look-up (or put it back), keeping its entry."""
        with self._write_lock:
            by_id = dict(self._by_id)
            if ghost and shelter_id in by_id:
                self.ghosts[shelter_id] = by_id.pop(shelter_id)
            elif not ghost and shelter_id in self.ghosts:
                by_id[shelter_id] = self.ghosts.pop(shelter_id)
            else:
                return
            self._by_id, self._snapshot = by_id, _Snapshot(list(by_id.values()))
            self.version += 1

    def apply(self, facts: Sequence[Fact]) -> None:
        """Take in a batch of new facts from the log (the LogFollower calls this)."""
        changed: list[IndexedShelter] = []
        for fact in facts:
            kind = fact.kind
            if kind == FactKind.READINESS_CHANGED:
                payload = orjson.loads(fact.payload)
                self.readiness[int(payload["shelter_id"])] = payload["readiness"]
                self.version += 1
            elif kind in (FactKind.SHELTER_GHOSTED, FactKind.SHELTER_RESTORED):
                if changed:
                    self.upsert(changed)
                    changed = []
                self._set_ghost(int(orjson.loads(fact.payload)["shelter_id"]),
                                kind == FactKind.SHELTER_GHOSTED)
            elif kind in STATUS_KINDS and self._follows_statuses:
                payload = orjson.loads(fact.payload)
                try:
                    self.set_status(int(payload["shelter_id"]), payload["status"])
                except (KeyError, ValueError):
                    logger.warning("status fact %s has no usable status", fact.seq)
            elif kind in (FactKind.SHELTER_CREATED, FactKind.SHELTER_UPDATED):
                shelter = IndexedShelter.from_public(orjson.loads(fact.payload))
                if shelter.id in self.ghosts:
                    self.ghosts[shelter.id] = shelter  # still a ghost, with its new details
                else:
                    changed.append(shelter)
        if changed:
            self.upsert(changed)


def _statuses_from_log(session: Session, up_to_seq: int) -> dict[int, str]:
    """Each shelter's latest status as the log records it, up to `up_to_seq`."""
    out: dict[int, str] = {}
    rows = session.execute(
        select(Fact.payload).where(Fact.kind.in_(STATUS_KINDS), Fact.seq <= up_to_seq)
        .order_by(Fact.seq)).scalars()
    for payload in rows:
        data = orjson.loads(payload)
        if "shelter_id" in data and data.get("status") in _STATUS_VALUES:
            out[int(data["shelter_id"])] = str(data["status"])
    return out
