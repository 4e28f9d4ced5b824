"""The figures people read: per-district summaries and per-cell features (sites: `sites.py`).

Every output carries the population's source and date, the reach method and the statuses it was
computed under, so a figure is never separated from what it rests on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from shelterwatch.coverage import grid as grids
from shelterwatch.coverage.model import CoverageModel
from shelterwatch.rules.catchment import two_step_fca
from shelterwatch.rules.coverage import (
    NO_SHELTER,
    BoolArray,
    FloatArray,
    Reach,
    out_of_reach,
)
from shelterwatch.vocabulary import Threat


def people(x: float) -> float | int:
    """A count of people as JSON shows it: whole when whole (district spreads), else 0.001."""
    r = round(float(x), 3)
    return int(r) if r == int(r) else r


def share(part: float, whole: float) -> float:
    return round(part / whole, 4) if whole > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One threat's verdict on every cell under one set of statuses."""

    threat: Threat
    normal: Reach
    reduced: Reach
    unreached: BoolArray
    unreached_reduced: BoolArray
    access: FloatArray  # places per person (2SFCA) per cell


def evaluate(model: CoverageModel, usable: BoolArray, reach: tuple[Reach, Reach],
             threat: Threat) -> Evaluation:
    """Compare each cell's walks with its warning time for `threat`; capacity per person."""
    normal, reduced = reach
    warning = model.warning_s[threat]
    pop = model.population.per_cell
    access = two_step_fca(model.normal, pop, model.shelters.capacity, usable,
                          model.walk.speed_mps, warning)
    return Evaluation(threat, normal, reduced, out_of_reach(pop, normal.walk_s, warning),
                      out_of_reach(pop, reduced.walk_s, warning), access)


def summary(model: CoverageModel, usable: BoolArray, ev: Evaluation, *,
            baseline: Evaluation | None = None, as_of_seq: int | None = None) -> dict[str, Any]:
    """The per-district figures (the `summary.json` contract and `GET /v1/coverage`)."""
    g, pop = model.grid, model.population.per_cell
    reports = model.reports if model.reports is not None else np.zeros(len(g), np.int64)
    capacity_known = int(model.shelters.capacity_known.sum())
    districts = []
    for i, d in enumerate(g.districts):
        rows = g.district == i
        districts.append({
            "id": d.id, "name": d.name, "name_en": d.name_en, "cells": int(rows.sum()),
            **_figures(pop[rows], ev.unreached[rows], ev.unreached_reduced[rows],
                       ev.access[rows], capacity_known),
            "no_shelter_reports": int(reports[rows].sum()),
            "warning_s": int(model.warning_s[ev.threat][rows][0]) if rows.any() else None,
        })
    out: dict[str, Any] = {
        "area": {"id": model.area_id, "name": model.area_name, "name_en": model.area_name_en},
        "threat": ev.threat.value,
        "population_source": model.population.source.as_dict(),
        "population_outside_area": people(model.population.outside_area),
        "reach": {"method": model.method, "speed_mps": model.walk.speed_mps,
                  "reduced_mobility_speed_mps": model.walk.reduced_mobility_speed_mps,
                  "horizon_s": model.walk.horizon_s,
                  "reduced_mobility": "step-free shelters only"},
        "grid": {"h3_resolution": grids.RESOLUTION, "cells": len(g)},
        "shelters": {"considered": len(model.shelters), "usable": int(usable.sum()),
                     "step_free": int(model.shelters.step_free.sum()),
                     "capacity_known": capacity_known},
        "statuses_as_of_seq": as_of_seq,
        "total": {"cells": len(g), **_figures(pop, ev.unreached, ev.unreached_reduced,
                                               ev.access, capacity_known),
                  "no_shelter_reports": int(reports.sum())},
        "districts": districts,
    }
    if baseline is not None:
        locked_out = ev.unreached & ~baseline.unreached
        out["total"]["newly_out_of_reach"] = people(pop[locked_out].sum())
        for i, row in enumerate(districts):
            rows = (g.district == i) & locked_out
            row["newly_out_of_reach"] = people(pop[rows].sum())
    return out


def _figures(pop: FloatArray, unreached: BoolArray, unreached_reduced: BoolArray,
             access: FloatArray, capacity_known: int) -> dict[str, Any]:
    total = float(pop.sum())
    out = float(pop[unreached].sum())
    out_r = float(pop[unreached_reduced].sum())
    places = (float((access * pop).sum() / total) if total > 0 and capacity_known else None)
    return {
        "population": people(total), "out_of_reach": people(out), "share": share(out, total),
        "reduced_mobility_out_of_reach": people(out_r),
        "reduced_mobility_share": share(out_r, total),
        "places_per_person": round(places, 4) if places is not None else None,
        "cells_below_one_place": (int(((access < 1.0) & (pop > 0)).sum())
                                  if capacity_known else None),
    }


def features(model: CoverageModel, ev: Evaluation) -> Iterator[dict[str, Any]]:
    """One GeoJSON Polygon feature per cell (the `cells.geojson` contract)."""
    g, pop, ids = model.grid, model.population.per_cell, model.shelters.ids
    warning = model.warning_s[ev.threat]
    reports = model.reports if model.reports is not None else np.zeros(len(g), np.int64)
    for i, cell in enumerate(g.cells):
        s = int(ev.normal.shelter[i])
        sr = int(ev.reduced.shelter[i])
        walk = float(ev.normal.walk_s[i])
        walk_r = float(ev.reduced.walk_s[i])
        yield {"type": "Feature", "id": cell,
               "geometry": {"type": "Polygon", "coordinates": [grids.boundary(cell)]},
               "properties": {
                   "h3": cell, "district_id": g.districts[int(g.district[i])].id,
                   "population": people(pop[i]),
                   "walk_s": round(walk, 1) if np.isfinite(walk) else None,
                   "shelter_id": int(ids[s]) if s != NO_SHELTER else None,
                   "reachable": bool(not ev.unreached[i]), "warning_s": int(warning[i]),
                   "reduced_mobility_walk_s": round(walk_r, 1) if np.isfinite(walk_r) else None,
                   "reduced_mobility_shelter_id": int(ids[sr]) if sr != NO_SHELTER else None,
                   "reduced_mobility_reachable": bool(not ev.unreached_reduced[i]),
                   "places_per_person": round(float(ev.access[i]), 4),
                   "no_shelter_reports": int(reports[i])}}
