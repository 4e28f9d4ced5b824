"""Where people live, on the grid: one loader per kind of input, each labelled with its source.

A planner must know how good the numbers are, so every output carries the population's source,
its date and whether it is coarse. Inputs, chosen by the file:

- **district totals** (the bundled official figures, or any CSV with a district id and a
  population): spread over each district's cells evenly, or by OSM buildings × levels when an
  extract is given. Coarse: totals say nothing about where in a district people live.
- **Kontur Population** (`h3,population` CSV, or its GeoPackage): H3 cells; coarser cells are
  split evenly into their resolution-9 children, finer ones summed into their parent.
- **WorldPop GeoTIFF** (`.tif`): each pixel's people go to the cell holding its centre.
- **buildings CSV** (`lat,lon,population`): each building's people go to its cell.

People in an input that fall outside the area are counted apart, never spread into it.
"""

from __future__ import annotations

import csv
import re
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import h3
import numpy as np

from shelterwatch.areas.bundled import normalise_name
from shelterwatch.coverage.grid import RESOLUTION, Grid
from shelterwatch.rules.coverage import FloatArray, apportion

BUNDLED = "kyiv_districts_population.csv"
BUNDLED_LABEL = ("Головне управління статистики у м. Києві (Kyiv city statistics office), "
                 "present population per district")
DATE_COLUMN = re.compile(r"^present_pop_(\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True, slots=True)
class PopulationSource:
    """What every output says about its people: from where, as of when, and how finely."""

    label: str
    date: str
    method: str
    coarse: bool

    def as_dict(self) -> dict[str, object]:
        return {"label": self.label, "date": self.date, "method": self.method,
                "coarse": self.coarse}


@dataclass(frozen=True, slots=True)
class Population:
    """People per grid cell, the input's total within the area, and what fell outside it."""

    per_cell: FloatArray
    source: PopulationSource
    outside_area: float = 0.0


def load(grid: Grid, path: Path | None, *,
         buildings: Sequence[tuple[float, float, float]] = (),
         label: str | None = None, date: str | None = None,
         buildings_source: str = "") -> Population:
    """The population for `grid` from `path` (None = the bundled district totals)."""
    if path is None:
        text = resources.files("shelterwatch.data.population").joinpath(BUNDLED).read_text(
            "utf-8")
        return from_district_totals(grid, text, name=BUNDLED, buildings=buildings,
                                    label=BUNDLED_LABEL, date=date,
                                    buildings_source=buildings_source)
    if not path.is_file():
        raise FileNotFoundError(2, "no such file", str(path))
    stamp = date or datetime.fromtimestamp(path.stat().st_mtime, UTC).date().isoformat()
    name = path.name.lower()
    if name.endswith((".tif", ".tiff")):
        return from_geotiff(grid, path, label=label or path.name, date=stamp)
    if name.endswith(".gpkg"):
        return _from_cells(grid, _gpkg_rows(path), label=label or path.name, date=stamp,
                           method="Kontur Population H3 cells (GeoPackage)")
    text = path.read_text(encoding="utf-8-sig")
    header = {h.strip().lower() for h in next(csv.reader([text.splitlines()[0]]), [])} \
        if text.strip() else set()
    if "h3" in header:
        rows = [(r["h3"].strip(), _number(r["population"], path.name, i))
                for i, r in enumerate(_dict_rows(text), start=2)]
        return _from_cells(grid, rows, label=label or path.name, date=stamp,
                           method="H3 cells (Kontur Population format)")
    if {"lat", "lon"} <= header:
        return from_buildings(grid, text, name=path.name, label=label or path.name, date=stamp)
    return from_district_totals(grid, text, name=path.name, buildings=buildings,
                                label=label or path.name, date=date or stamp,
                                buildings_source=buildings_source)


def _dict_rows(text: str) -> list[dict[str, str]]:
    return [{(k or "").strip().lower(): (v or "") for k, v in row.items()}
            for row in csv.DictReader(text.splitlines())]


def _number(value: str | None, name: str, line: int) -> float:
    try:
        number = float((value or "").strip())
    except ValueError:
        raise ValueError(f"{name} line {line}: population {value!r} is not a number") from None
    if number < 0 or number != number:
        raise ValueError(f"{name} line {line}: population {value!r} is negative")
    return number


def from_district_totals(grid: Grid, text: str, *, name: str,
                         buildings: Sequence[tuple[float, float, float]], label: str,
                         date: str | None, buildings_source: str = "") -> Population:
    """Spread each district's total over its cells (evenly, or by buildings × levels)."""
    rows = _dict_rows(text)
    if not rows:
        raise ValueError(f"{name}: no rows")
    columns = list(rows[0])
    dated = sorted((m.group(1), c) for c in columns if (m := DATE_COLUMN.match(c)))
    if dated:
        as_of, column = dated[-1]
    elif "population" in columns:
        as_of, column = date or "", "population"
    else:
        raise ValueError(f"{name}: no population column (population or present_pop_YYYY-MM-DD)")
    totals: dict[str, int] = {}
    for line, row in enumerate(rows, start=2):
        value = int(round(_number(row.get(column), name, line)))
        for key in ("katottg_in_air_stat_geojson", "district_id", "id", "katottg",
                    "district_uk", "district_en", "district", "name"):
            if row.get(key):
                totals[normalise_name(row[key])] = value
    weights = _building_weights(grid, buildings)
    per_cell = np.zeros(len(grid), dtype=np.float64)
    for d_index, district in enumerate(grid.districts):
        total = next((totals[k] for k in (normalise_name(district.id),
                                          normalise_name(district.name),
                                          normalise_name(district.name_en)) if k in totals),
                     None)
        if total is None:
            raise ValueError(f"{name}: no population for district {district.id} "
                             f"({district.name_en or district.name})")
        rows_of = np.flatnonzero(grid.district == d_index)
        w = [float(weights[i]) for i in rows_of] if buildings else [1.0] * len(rows_of)
        per_cell[rows_of] = apportion(total, w)
    spread = (f"district totals spread by OSM buildings × levels ({buildings_source})"
              if buildings else "district totals spread evenly over each district's cells")
    return Population(per_cell, PopulationSource(label, as_of, spread, coarse=True))


def _building_weights(grid: Grid, buildings: Sequence[tuple[float, float, float]]
                      ) -> FloatArray:
    position = grid.position()
    weights = np.zeros(len(grid), dtype=np.float64)
    for lat, lon, levels in buildings:
        row = position.get(h3.latlng_to_cell(lat, lon, RESOLUTION))
        if row is not None:
            weights[row] += levels
    return weights


def _from_cells(grid: Grid, rows: Sequence[tuple[str, float]], *, label: str, date: str,
                method: str) -> Population:
    """People keyed by H3 cell at any resolution, moved onto the grid's resolution."""
    position = grid.position()
    per_cell = np.zeros(len(grid), dtype=np.float64)
    outside = 0.0
    for cell, people in rows:
        if not h3.is_valid_cell(cell):
            raise ValueError(f"{label}: {cell!r} is not an H3 cell")
        res = h3.get_resolution(cell)
        if res > RESOLUTION:
            parts: Mapping[str, float] = {h3.cell_to_parent(cell, RESOLUTION): people}
        elif res < RESOLUTION:
            children = h3.cell_to_children(cell, RESOLUTION)
            parts = {c: people / len(children) for c in children}
        else:
            parts = {cell: people}
        for c, p in parts.items():
            row = position.get(c)
            if row is None:
                outside += p
            else:
                per_cell[row] += p
    return Population(per_cell, PopulationSource(label, date, method, coarse=False), outside)


def _gpkg_rows(path: Path) -> list[tuple[str, float]]:
    """Kontur's GeoPackage: the one table with `h3` and `population` columns."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT table_name FROM gpkg_contents WHERE data_type = 'features'")]
        for table in tables:
            cols = {r[1].lower() for r in conn.execute(f'PRAGMA table_info("{table}")')}
            if {"h3", "population"} <= cols:
                return [(str(h), float(p)) for h, p in
                        conn.execute(f'SELECT h3, population FROM "{table}"')]
    raise ValueError(f"{path.name}: no table with h3 and population columns")


def from_buildings(grid: Grid, text: str, *, name: str, label: str, date: str) -> Population:
    """Each building's residents in the cell that holds it."""
    position = grid.position()
    per_cell = np.zeros(len(grid), dtype=np.float64)
    outside = 0.0
    for line, row in enumerate(_dict_rows(text), start=2):
        people = _number(row.get("population") or row.get("residents"), name, line)
        try:
            cell = h3.latlng_to_cell(float(row["lat"]), float(row["lon"]), RESOLUTION)
        except (ValueError, h3.H3BaseException):
            raise ValueError(f"{name} line {line}: lat/lon is not a position") from None
        at = position.get(cell)
        if at is None:
            outside += people
        else:
            per_cell[at] += people
    return Population(per_cell, PopulationSource(label, date, "buildings' residents",
                                                 coarse=False), outside)


def from_geotiff(grid: Grid, path: Path, *, label: str, date: str) -> Population:
    """A WorldPop-style raster (people per pixel, EPSG:4326): each pixel to its centre's cell."""
    import rasterio

    position = grid.position()
    per_cell = np.zeros(len(grid), dtype=np.float64)
    outside = 0.0
    with rasterio.open(path) as src:
        if src.crs is not None and src.crs.to_epsg() not in (4326, None):
            raise ValueError(f"{path.name}: raster must be in EPSG:4326, not {src.crs}")
        band = src.read(1, masked=True).astype(np.float64).filled(0.0)
        rows, cols = np.nonzero(band > 0)
        xs, ys = rasterio.transform.xy(src.transform, rows, cols, offset="center")
    for lon, lat, people in zip(np.atleast_1d(xs), np.atleast_1d(ys), band[rows, cols],
                                strict=True):
        at = position.get(h3.latlng_to_cell(float(lat), float(lon), RESOLUTION))
        if at is None:
            outside += float(people)
        else:
            per_cell[at] += float(people)
    return Population(per_cell, PopulationSource(label, date, "raster pixels (WorldPop format)",
                                                 coarse=False), outside)
