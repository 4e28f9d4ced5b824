"""Where to add or fix: candidate sites, and their ranking by the people they bring within reach.

Candidates are the registry's doors that cannot be counted on — those that take nobody in now
(confirmed locked, unfit, closed, full, or reported locked), those found locked again and again
lately (`locked`-prone: locked cases and authoritative `locked` checks in a recent window), those
an audit rated `not_ready` — and any points a planner proposes. A registry door counted on today
(status unknown, say) but locked at every other alert is worth fixing exactly because people are
counted as covered by it: so the ranking starts from the reach *without* every registry
candidate, and each site's marginal gain is the people it brings back within reach on top of the
sites ranked above it (greedy maximal coverage, `rules.catchment.greedy_max_coverage`).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from shelterwatch.coverage import model as models
from shelterwatch.coverage.figures import people
from shelterwatch.coverage.model import CoverageModel
from shelterwatch.coverage.reach import by_detour
from shelterwatch.rules.catchment import greedy_max_coverage
from shelterwatch.rules.coverage import BoolArray, IntArray, nearest_usable, out_of_reach
from shelterwatch.vocabulary import Status, Threat

# Registry doors worth fixing first: they do not take people in now, or may not.
NOT_TAKING = frozenset({Status.LOCKED_CONFIRMED, Status.LOCKED_REPORTED, Status.UNFIT,
                        Status.CLOSED, Status.FULL})


@dataclass(frozen=True, slots=True)
class Site:
    """A place where a door could be opened, fixed or built: a registry shelter or a point."""

    label: str
    lat: float
    lon: float
    shelter_id: int | None = None
    reason: str = "planner"  # status:<status>, locked_prone:<n>, not_ready, planner


@dataclass(frozen=True, slots=True)
class Hints:
    """What the registry's history says about its doors, read once per build."""

    locked_prone: Mapping[int, int]  # shelter → locked cases and checks in the window
    not_ready: frozenset[int]
    window_days: float
    planner: tuple[Site, ...] = ()


def read_hints(session: Session, *, now: datetime, window_days: float,
               planner: Sequence[Site] = ()) -> Hints:
    """The registry's history of locked doors and audits, for one build."""
    since = now - timedelta(days=window_days)
    return Hints(models.locked_prone(session, since=since), models.not_ready_ids(session),
                 window_days, tuple(planner))


def planner_sites(path: Path) -> list[Site]:
    """Points a planner proposes: a CSV with lat, lon and optionally name."""
    out = []
    with path.open(encoding="utf-8-sig", newline="") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            try:
                lat, lon = float(row["lat"]), float(row["lon"])
            except (KeyError, TypeError, ValueError):
                raise ValueError(f"{path.name} line {line}: lat and lon must be numbers") from None
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValueError(f"{path.name} line {line}: lat/lon out of range")
            out.append(Site(row.get("name") or f"{path.name}:{line}", lat, lon))
    return out


def registry_sites(model: CoverageModel, statuses: Mapping[int, str],
                   hints: Hints) -> list[Site]:
    """The registry's shelters in the model that cannot be counted on, each with its reason."""
    out = []
    for i, sid in enumerate(model.shelters.ids.tolist()):
        status = Status(statuses.get(sid, Status.UNKNOWN))
        if status in NOT_TAKING:
            reason = f"status:{status.value}"
        elif sid in hints.not_ready:
            reason = "not_ready"
        elif hints.locked_prone.get(sid):
            reason = f"locked_prone:{hints.locked_prone[sid]}"
        else:
            continue
        out.append(Site(f"shelter {sid}", float(model.shelters.lat[i]),
                        float(model.shelters.lon[i]), int(sid), reason))
    return out


def ranked(model: CoverageModel, statuses: Mapping[int, str], usable: BoolArray,
           threat: Threat, hints: Hints, budget: int) -> dict[str, Any]:
    """The summary's `sites` and `sites_basis` for one threat under the live statuses."""
    top, basis = rank(model, usable, threat,
                      [*registry_sites(model, statuses, hints), *hints.planner], budget)
    return {"sites": top, "sites_basis": {**basis, "locked_window_days": hints.window_days}}


def rank(model: CoverageModel, usable: BoolArray, threat: Threat, sites: Sequence[Site],
         budget: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The sites in greedy order with their gains, and the basis they were ranked on."""
    position = model.shelters.position()
    at = [position.get(s.shelter_id) if s.shelter_id is not None else None for s in sites]
    in_registry = [i for i in at if i is not None]
    counted = usable.copy()
    counted[np.asarray(in_registry, dtype=np.int64)] = False
    warning = model.warning_s[threat]
    pop = model.population.per_cell
    speed = model.walk.speed_mps
    normal = nearest_usable(model.normal, counted, speed)
    unreached = out_of_reach(pop, normal.walk_s, warning)
    basis = {"threat": threat.value, "candidates": len(sites),
             "registry_candidates": len(in_registry),
             "out_of_reach_without_registry_candidates": people(pop[unreached].sum())}
    if not sites or budget <= 0:
        return [], basis
    # Registry sites cover the cells that list them within the warning; planned points are
    # walked to like any shelter (straight line × detour).
    site_of = np.full(len(model.shelters), -1, dtype=np.int64)
    for k, i in enumerate(at):
        if i is not None:
            site_of[i] = k
    extra = [k for k, i in enumerate(at) if i is None]
    planned = by_detour(model.grid.lat, model.grid.lon,
                        np.asarray([sites[k].lat for k in extra]),
                        np.asarray([sites[k].lon for k in extra]),
                        detour=model.walk.detour_factor,
                        horizon_m=model.walk.horizon_s * speed)
    covers: list[IntArray] = [np.zeros(0, dtype=np.int64)] * len(sites)
    for candidates, site_of_entry in ((model.normal, site_of[model.normal.shelter]),
                                      (planned, np.asarray(extra, dtype=np.int64)[
                                          planned.shelter] if extra else planned.shelter)):
        cell = candidates.cell_of_entry()
        keep = (site_of_entry >= 0) & (candidates.metres / speed <= warning[cell])
        owner, cells = site_of_entry[keep], cell[keep]
        order = np.argsort(owner, kind="stable")
        owner, cells = owner[order], cells[order]
        bounds = np.searchsorted(owner, np.arange(len(sites) + 1))
        for k in np.unique(owner).tolist():
            covers[k] = cells[bounds[k]:bounds[k + 1]]
    picks = greedy_max_coverage(covers, pop, ~unreached, budget)
    ranked = [{"rank": r + 1, "label": sites[p.site].label,
               "shelter_id": sites[p.site].shelter_id, "reason": sites[p.site].reason,
               "lat": sites[p.site].lat, "lon": sites[p.site].lon,
               "marginal_gain": people(p.marginal_gain),
               "cumulative_gain": people(p.cumulative_gain)} for r, p in enumerate(picks)]
    return ranked, basis
