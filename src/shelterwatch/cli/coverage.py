"""`shelterwatch coverage`: who cannot reach a usable shelter before the threat arrives."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shelterwatch import db
from shelterwatch.alerts import service as alerts
from shelterwatch.cli.common import console, one_line_errors
from shelterwatch.config import get_settings
from shelterwatch.coverage import figures, outputs
from shelterwatch.coverage import model as models
from shelterwatch.coverage.live import walk_params
from shelterwatch.log import service as log
from shelterwatch.vocabulary import Status, Threat

STEPS = ("grid", "street network", "population", "walking distances", "warning times",
         "reach", "files")
# Registry shelters worth fixing first: doors that do not take people in now.
FIXABLE = (Status.LOCKED_CONFIRMED, Status.UNFIT, Status.CLOSED, Status.FULL,
           Status.LOCKED_REPORTED)


def _planner_sites(path: Path) -> list[figures.Site]:
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
            out.append(figures.Site(row.get("name") or f"{path.name}:{line}", lat, lon))
    return out


@one_line_errors
def coverage(
    area: Annotated[str, typer.Option(help="area id, e.g. 31 (Kyiv city)")] = "31",
    threat: Annotated[Threat, typer.Option(help="threat whose warning time bounds the walk")
                      ] = Threat.BALLISTIC,
    out: Annotated[Path, typer.Option(help="folder for cells.geojson, summary.json, map.png")
                   ] = Path("var/coverage"),
    population: Annotated[Path | None, typer.Option(
        help="district totals / Kontur h3,population CSV or .gpkg / WorldPop .tif / "
             "buildings lat,lon,population CSV (default: the bundled Kyiv district totals)")
    ] = None,
    population_label: Annotated[str | None, typer.Option(help="source to print on outputs")
                                ] = None,
    population_date: Annotated[str | None, typer.Option(help="date of the population")] = None,
    network: Annotated[Path | None, typer.Option(
        help="OSM extract (.osm/.osm.pbf): walk by its streets, weigh districts by buildings")
    ] = None,
    candidates: Annotated[Path | None, typer.Option(
        help="CSV of lat,lon[,name] sites a planner proposes")] = None,
    top: Annotated[int, typer.Option(help="how many sites to rank")] = 10,
) -> None:
    """Write per-cell reach, per-district figures and a map; print the share out of reach."""
    settings = get_settings()
    walk = walk_params(settings)
    config = alerts.warning_config(settings)
    planner = _planner_sites(candidates) if candidates else []
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("coverage", total=len(STEPS))

        def step(label: str) -> None:
            done = STEPS.index(label) if label in STEPS else 0
            bar.update(task, completed=done, description=f"coverage: {label}")

        with db.reading(settings.database_url) as session:
            model = models.build(session, area_id=area, config=config, walk=walk,
                                 population_file=population, network_file=network,
                                 population_label=population_label,
                                 population_date=population_date, progress=step)
            statuses = models.current_statuses(session)
            ghosts = models.ghost_ids(session)
            seq = log.last_seq(session)
        step("reach")
        usable = model.usable(statuses, ghosts)
        reach = model.reach(usable)
        evaluations = {t: figures.evaluate(model, usable, reach, t) for t in Threat}
        ev = evaluations[threat]
        summary = figures.summary(model, usable, ev, as_of_seq=seq)
        cells = list(figures.features(model, ev))
        registry_sites = [figures.Site(f"shelter {int(sid)}", float(model.shelters.lat[i]),
                                       float(model.shelters.lon[i]), int(sid))
                          for i, sid in enumerate(model.shelters.ids.tolist())
                          if not usable[i] or Status(statuses.get(sid, "unknown")) in FIXABLE]
        ranked = figures.rank_sites(model, ev, registry_sites + planner, top)
        step("files")
        outputs.write_all(out, model, summary, cells, ranked)
        bar.update(task, completed=len(STEPS))
    _print_table(model, evaluations)
    src = summary["population_source"]
    console.print(f"people: {src['label']}, {src['date']} — {src['method']}"
                  f"{' (coarse)' if src['coarse'] else ''}; reach: {model.method}", highlight=False)
    console.print(f"wrote {out}/cells.geojson, cells.csv, summary.json, sites.csv, map.png",
                  highlight=False)
    total = summary["total"]
    console.print(f"out of reach ({threat.value}, {int(model.warning_s[threat].max())} s): "
                  f"{total['share'] * 100:.1f}% of {total['population']:,} people "
                  f"({total['out_of_reach']:,})", highlight=False)


def _print_table(model: models.CoverageModel,
                 evaluations: dict[Threat, figures.Evaluation]) -> None:
    """Share of people out of reach per district (rows) and threat (columns)."""
    shown = [t for t in Threat if t is not Threat.UNKNOWN]
    warnings = ", ".join(f"{t.value} {int(model.warning_s[t].max())} s" for t in shown)
    table = Table(title=f"share of people out of reach — area {model.area_id}")
    table.add_column("district", no_wrap=True)
    table.add_column("people", justify="right", no_wrap=True)
    for t in shown:
        table.add_column(t.value, justify="right", no_wrap=True)
    pop = model.population.per_cell
    g = model.grid

    def pct(rows: np.ndarray, t: Threat) -> str:
        whole = float(pop[rows].sum())
        part = float(pop[rows & evaluations[t].unreached].sum())
        return f"{figures.share(part, whole) * 100:.1f}%"

    for i, d in enumerate(g.districts):
        rows = g.district == i
        name = outputs.short_name(d.name_en or d.name)
        table.add_row(name, f"{pop[rows].sum():,.0f}", *(pct(rows, t) for t in shown))
    everyone = np.ones(len(g), dtype=bool)
    table.add_row("all", f"{pop.sum():,.0f}", *(pct(everyone, t) for t in shown))
    console.print(table)
    console.print(f"warning time: {warnings}", highlight=False)
