"""`shelterwatch coverage`: who cannot reach a usable shelter before the threat arrives."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shelterwatch import db
from shelterwatch.alerts import service as alerts
from shelterwatch.cli.common import console, one_line_errors
from shelterwatch.clock import utcnow
from shelterwatch.config import get_settings
from shelterwatch.coverage import figures, outputs, sites
from shelterwatch.coverage import model as models
from shelterwatch.coverage.live import walk_params
from shelterwatch.log import service as log
from shelterwatch.vocabulary import Threat

STEPS = ("grid", "street network", "population", "walking distances", "warning times",
         "reach", "sites", "files")


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
    top: Annotated[int | None, typer.Option(help="how many sites to rank (default: "
                                              "SHELTERWATCH_COVERAGE_SITES_TOP)")] = None,
    locked_window_days: Annotated[float | None, typer.Option(
        help="a door found locked this many days back is a site to fix (default: "
             "SHELTERWATCH_COVERAGE_LOCKED_WINDOW_DAYS)")] = None,
) -> None:
    """Write per-cell reach, per-district figures and a map; print the share out of reach."""
    settings = get_settings()
    walk = walk_params(settings)
    config = alerts.warning_config(settings)
    planner = sites.planner_sites(candidates) if candidates else []
    budget = settings.coverage_sites_top if top is None else top
    window = (settings.coverage_locked_window_days if locked_window_days is None
              else locked_window_days)
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
            hints = sites.read_hints(session, now=utcnow(), window_days=window, planner=planner)
            seq = log.last_seq(session)
        step("reach")
        usable = model.usable(statuses, ghosts)
        reach = model.reach(usable)
        evaluations = {t: figures.evaluate(model, usable, reach, t) for t in Threat}
        ev = evaluations[threat]
        summary = figures.summary(model, usable, ev, as_of_seq=seq)
        cells = list(figures.features(model, ev))
        step("sites")
        summary.update(sites.ranked(model, statuses, usable, threat, hints, budget))
        step("files")
        outputs.write_all(out, model, summary, cells, summary["sites"])
        bar.update(task, completed=len(STEPS))
    _print_table(model, evaluations)
    _print_sites(summary)
    src = summary["population_source"]
    console.print(f"people: {src['label']}, {src['date']} — {src['method']}"
                  f"{' (coarse)' if src['coarse'] else ''}; reach: {model.method}", highlight=False)
    console.print(f"wrote {out}/cells.geojson, cells.csv, summary.json, sites.csv, map.png",
                  highlight=False)
    total = summary["total"]
    console.print(f"out of reach ({threat.value}, {int(model.warning_s[threat].max())} s): "
                  f"{total['share'] * 100:.1f}% of {total['population']:,} people "
                  f"({total['out_of_reach']:,})", highlight=False)


def _print_sites(summary: dict[str, Any]) -> None:
    """The sites that would bring the most people within reach, in greedy order."""
    basis = summary["sites_basis"]
    if not summary["sites"]:
        console.print(f"where to add or fix: none of {basis['candidates']} candidates brings "
                      "anyone within reach", highlight=False)
        return
    table = Table(title=f"where to add or fix ({basis['threat']}; without the "
                        f"{basis['registry_candidates']} registry candidates "
                        f"{basis['out_of_reach_without_registry_candidates']:,} people are "
                        "out of reach)")
    for name in ("rank", "site", "why", "people brought within reach", "cumulative"):
        table.add_column(name, justify="right" if name != "site" else "left")
    for s in summary["sites"]:
        table.add_row(str(s["rank"]), s["label"], s["reason"], f"{s['marginal_gain']:,}",
                      f"{s['cumulative_gain']:,}")
    console.print(table)


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
