"""The coverage model of one area: its grid, people, shelters and who-can-walk-where, built once.

Building it is the expensive part (the grid, the population spread, every cell's candidate
shelters within the walking horizon); evaluating it under a set of live statuses is a few array
operations. So the CLI builds it once and evaluates per threat, and the live state in the API
process builds it in the background and then only recomputes the cells a status change touches.
Everything is derived: the same registry, statuses and inputs give the same figures.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import h3
import numpy as np
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from shelterwatch.areas import service as areas
from shelterwatch.areas.models import Area
from shelterwatch.audits import readiness_store
from shelterwatch.coverage import grid as grids
from shelterwatch.coverage import network as networks
from shelterwatch.coverage import population as populations
from shelterwatch.coverage.reach import by_detour, subset
from shelterwatch.errors import InvalidInput
from shelterwatch.incidents.models import Incident
from shelterwatch.observations.models import Observation, PlaceReport, ShelterStatus
from shelterwatch.rules.coverage import (
    BoolArray,
    Candidates,
    FloatArray,
    IntArray,
    Reach,
    is_usable,
    nearest_usable,
)
from shelterwatch.rules.status import AUTHORITATIVE
from shelterwatch.rules.warning import ActiveAlert, WarningConfig, seconds_for
from shelterwatch.shelters.models import Shelter
from shelterwatch.vocabulary import AlertType, ObservationKind, Status, Threat

Progress = Callable[[str], None]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # a probe alert's start; only its threat matters


@dataclass(frozen=True, slots=True)
class WalkParams:
    """Walking speeds, the detour factor for straight-line estimates, and how far to look."""

    speed_mps: float = 1.3
    reduced_mobility_speed_mps: float = 0.8
    detour_factor: float = 1.3
    horizon_s: float = 1800.0  # walks longer than this are "no shelter within reach" at all


@dataclass(frozen=True, slots=True)
class Shelters:
    """The registry's shelters near the area, as arrays in one order."""

    ids: IntArray
    lat: FloatArray
    lon: FloatArray
    step_free: BoolArray
    capacity: FloatArray  # 0 where unknown
    capacity_known: BoolArray

    def __len__(self) -> int:
        return len(self.ids)

    def position(self) -> dict[int, int]:
        return {int(s): i for i, s in enumerate(self.ids.tolist())}


@dataclass(slots=True)
class CoverageModel:
    """Everything needed to answer "who cannot reach a usable shelter in time?" for one area."""

    area_id: str
    area_name: str
    area_name_en: str
    grid: grids.Grid
    population: populations.Population
    shelters: Shelters
    normal: Candidates  # every shelter, at walking speed
    reduced: Candidates  # step-free shelters only (by a steps-free network when given)
    walk: WalkParams
    method: str
    warning_s: dict[Threat, FloatArray] = field(default_factory=dict)  # per cell
    reports: IntArray | None = None  # "no shelter nearby" reports per cell

    def usable(self, statuses: Mapping[int, Status | str],
               ghosts: frozenset[int] = frozenset()) -> BoolArray:
        """Which shelters take people in now (the live statuses; ghosts never)."""
        return np.fromiter(
            (is_usable(Status(statuses.get(int(s), Status.UNKNOWN)), ghost=int(s) in ghosts)
             for s in self.shelters.ids.tolist()), dtype=np.bool_, count=len(self.shelters))

    def reach(self, usable: BoolArray) -> tuple[Reach, Reach]:
        """Nearest usable shelter per cell: on foot, and with reduced mobility (step-free)."""
        normal = nearest_usable(self.normal, usable, self.walk.speed_mps)
        reduced = nearest_usable(self.reduced, usable & self.shelters.step_free,
                                 self.walk.reduced_mobility_speed_mps)
        return normal, reduced


def _districts(session: Session, area: Area) -> list[grids.District]:
    children = session.execute(
        select(Area).where(Area.parent_id == area.id, Area.geometry.is_not(None))
        .order_by(Area.id)).scalars().all()
    chosen = list(children) or ([area] if area.geometry else [])
    if not chosen:
        raise InvalidInput(f"area {area.id} has no polygon to lay a grid over")
    return [grids.District(a.id, a.name, a.name_en, json.loads(a.geometry or "{}"))
            for a in chosen]


def _shelters_near(session: Session, g: grids.Grid, margin_m: float) -> Shelters:
    """Shelters in the grid's box widened by the horizon: a door across the border counts."""
    if len(g) == 0:
        raise InvalidInput(f"area {g.area_id} is too small for a resolution-9 cell")
    dlat = margin_m / 111_320.0
    dlon = dlat / max(0.1, float(np.cos(np.radians(np.mean(g.lat)))))
    rows = session.execute(
        select(Shelter.id, Shelter.lat, Shelter.lon, Shelter.step_free, Shelter.capacity)
        .where(Shelter.lat.between(float(g.lat.min()) - dlat, float(g.lat.max()) + dlat),
               Shelter.lon.between(float(g.lon.min()) - dlon, float(g.lon.max()) + dlon))
        .order_by(Shelter.id)).all()
    cap = [r.capacity for r in rows]
    return Shelters(
        np.asarray([r.id for r in rows], dtype=np.int64),
        np.asarray([r.lat for r in rows], dtype=np.float64),
        np.asarray([r.lon for r in rows], dtype=np.float64),
        np.asarray([bool(r.step_free) for r in rows], dtype=np.bool_),
        np.asarray([float(c) if c is not None and c > 0 else 0.0 for c in cap]),
        np.asarray([c is not None and c > 0 for c in cap], dtype=np.bool_))


def _warning_per_cell(session: Session, g: grids.Grid,
                      config: WarningConfig) -> dict[Threat, FloatArray]:
    """Each cell's warning seconds per threat, from its district's chain of areas."""
    out: dict[Threat, FloatArray] = {}
    chains = [areas.ancestors_of(session, d.id) for d in g.districts]
    for threat in Threat:
        probe = [ActiveAlert(0, chain[-1], AlertType.AIR_RAID, threat, started_at=_EPOCH)
                 for chain in chains]
        per_district = np.asarray([seconds_for(p, c, config) for p, c in zip(probe, chains,
                                                                              strict=True)],
                                  dtype=np.float64)
        out[threat] = per_district[g.district]
    return out


def _reports_per_cell(session: Session, g: grids.Grid) -> IntArray:
    """Reports of "no shelter nearby" (positions rounded to ~100 m) counted per cell."""
    position = g.position()
    counts = np.zeros(len(g), dtype=np.int64)
    for lat, lon in session.execute(select(PlaceReport.lat, PlaceReport.lon)).all():
        row = position.get(h3.latlng_to_cell(lat, lon, grids.RESOLUTION))
        if row is not None:
            counts[row] += 1
    return counts


def _check_size(area: Area, districts: Sequence[grids.District], max_cells: int | None) -> None:
    """Refuse, before laying it, a grid larger than `max_cells` (an oblast is ~300,000)."""
    if max_cells is None:
        return
    from shapely.geometry import shape

    km2 = 0.0
    for d in districts:
        geom = shape(d.geometry)
        lat = geom.centroid.y
        km2 += geom.area * 111.32 ** 2 * float(np.cos(np.radians(lat)))
    estimate = int(km2 / h3.average_hexagon_area(grids.RESOLUTION, unit="km^2"))
    if estimate > max_cells:
        raise InvalidInput(f"area {area.id} would need about {estimate:,} cells; the live "
                           f"figures stop at {max_cells:,} (use `shelterwatch coverage`)")


def grid_for(session: Session, area_id: str) -> grids.Grid:
    """The area's grid alone (for preparing inputs keyed by its cells)."""
    area = areas.get_or_raise(session, area_id)
    return grids.build(area.id, _districts(session, area))


def build(session: Session, *, area_id: str, config: WarningConfig, walk: WalkParams,
          population_file: Path | None = None, network_file: Path | None = None,
          population_label: str | None = None, population_date: str | None = None,
          progress: Progress | None = None, max_cells: int | None = None) -> CoverageModel:
    """Read the area, registry and inputs, and work out every cell's candidate shelters."""
    step = progress or (lambda _label: None)
    area = areas.get_or_raise(session, area_id)
    step("grid")
    districts = _districts(session, area)
    _check_size(area, districts, max_cells)
    g = grids.build(area.id, districts)
    net = None
    if network_file is not None:
        step("street network")
        net = networks.read(network_file)
    step("population")
    people = populations.load(g, population_file, buildings=net.buildings if net else (),
                              label=population_label, date=population_date,
                              buildings_source=net.source if net else "")
    horizon_m = walk.horizon_s * walk.speed_mps
    shelters = _shelters_near(session, g, horizon_m)
    step("walking distances")
    if net is None:
        normal = by_detour(g.lat, g.lon, shelters.lat, shelters.lon,
                           detour=walk.detour_factor, horizon_m=horizon_m)
        # The same metres, to step-free shelters only, within the horizon at the slower speed.
        reduced = subset(normal, shelters.step_free,
                         walk.horizon_s * walk.reduced_mobility_speed_mps)
        method = f"straight line × {walk.detour_factor:g} detour"
    else:
        normal = networks.candidates(net, g.lat, g.lon, shelters.lat, shelters.lon,
                                     horizon_m=horizon_m, step_free=False)
        step_free_ids = np.flatnonzero(shelters.step_free).tolist()
        reduced = networks.candidates(
            net, g.lat, g.lon, shelters.lat, shelters.lon, step_free=True,
            horizon_m=walk.horizon_s * walk.reduced_mobility_speed_mps, shelters=step_free_ids)
        method = f"street network of {net.source} (steps excluded for reduced mobility)"
    step("warning times")
    return CoverageModel(area.id, area.name, area.name_en, g, people, shelters, normal, reduced,
                         walk, method, _warning_per_cell(session, g, config),
                         _reports_per_cell(session, g))


def current_statuses(session: Session) -> dict[int, str]:
    """Every shelter's live status from the status projection."""
    return {int(s): str(v) for s, v in session.execute(
        select(ShelterStatus.shelter_id, ShelterStatus.status)).all()}


def ghost_ids(session: Session) -> frozenset[int]:
    """Shelters an audit found not to exist or used for something else: never usable."""
    return readiness_store.ghost_ids(session)


def not_ready_ids(session: Session) -> frozenset[int]:
    """Shelters whose audited readiness is `not_ready` (ghosts aside): siting candidates."""
    return readiness_store.not_ready_ids(session)


def locked_prone(session: Session, *, since: datetime) -> dict[int, int]:
    """Shelter → how often its door was found locked since `since`: locked cases (not closed as
    false reports) and authoritative `locked` checks (keyholder, patrol, door, operator), counted
    in two grouped queries, whatever the registry's size."""
    cases = session.execute(
        select(Incident.shelter_id, func.count()).where(
            Incident.opened_at >= since,
            or_(Incident.resolution.is_(None), Incident.resolution != "false_report"))
        .group_by(Incident.shelter_id)).all()
    checks = session.execute(
        select(Observation.shelter_id, func.count()).where(
            Observation.at >= since, Observation.kind == ObservationKind.LOCKED.value,
            Observation.role.in_(sorted(r.value for r in AUTHORITATIVE)))
        .group_by(Observation.shelter_id)).all()
    out: dict[int, int] = {}
    for sid, n in [*cases, *checks]:
        out[int(sid)] = out.get(int(sid), 0) + int(n)
    return out


def districts_of(model: CoverageModel) -> Sequence[grids.District]:
    return model.grid.districts


