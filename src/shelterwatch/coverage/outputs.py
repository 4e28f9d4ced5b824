"""Files a planner opens: `cells.geojson`, `cells.csv`, `summary.json`, `sites.csv`, `map.png`.

Each file is written to a temporary name and renamed, so a half-written file never sits under the
final name; the map is drawn with matplotlib's Agg backend (no display needed).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from shelterwatch.coverage import grid as grids
from shelterwatch.coverage.model import CoverageModel

CSV_FIELDS = ("h3", "district_id", "population", "walk_s", "shelter_id", "reachable",
              "warning_s", "reduced_mobility_walk_s", "reduced_mobility_shelter_id",
              "reduced_mobility_reachable", "places_per_person", "no_shelter_reports")


def _replace(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_all(out: Path, model: CoverageModel, summary: dict[str, Any],
              features: Sequence[dict[str, Any]], sites: Sequence[dict[str, Any]]) -> list[Path]:
    """Write every output into `out` (created if missing); returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    meta = {"threat": summary["threat"], "population_source": summary["population_source"],
            "reach": summary["reach"], "area": summary["area"]}
    cells = {"type": "FeatureCollection", "properties": meta, "features": list(features)}
    written = []
    for name, body in (("cells.geojson", json.dumps(cells, ensure_ascii=False)),
                       ("summary.json", json.dumps({**summary, "sites": list(sites)},
                                                   ensure_ascii=False, indent=1)),
                       ("cells.csv", _csv((f["properties"] for f in features), CSV_FIELDS)),
                       ("sites.csv", _csv(sites, ("rank", "label", "shelter_id", "reason", "lat",
                                                  "lon", "marginal_gain", "cumulative_gain")))):
        _replace(out / name, body.encode("utf-8"))
        written.append(out / name)
    _replace(out / "map.png", draw_map(model, summary, features))
    written.append(out / "map.png")
    return written


def _csv(rows: Iterable[dict[str, Any]], fields: Sequence[str]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(fields), extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for row in rows:
        w.writerow({k: "" if row.get(k) is None else row.get(k) for k in fields})
    return buf.getvalue()


def short_name(name: str) -> str:
    """"Pecherskyi district" → "Pecherskyi": labels must not cover the map."""
    for suffix in (" district", " District", " район"):
        name = name.removesuffix(suffix)
    return name


def draw_map(model: CoverageModel, summary: dict[str, Any],
             features: Sequence[dict[str, Any]]) -> bytes:
    """Cells coloured by walking time against the warning; districts outlined and labelled."""
    # The object API with the Agg canvas: no pyplot, no global state, no display.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    threat = summary["threat"]
    warning = [f["properties"]["warning_s"] for f in features]
    walk = [f["properties"]["walk_s"] for f in features]
    # Bins relative to the warning: well within, within, a little late, too late, no shelter.
    colours = ["#1a9850", "#91cf60", "#fdae61", "#d73027", "#4d4d4d"]
    labels = ["≤ ½ warning", "≤ warning", "≤ 2 × warning", "> 2 × warning",
              "none within 30 min"]
    bins = []
    for w, lim in zip(walk, warning, strict=True):
        if w is None:
            bins.append(4)
        elif lim <= 0:
            bins.append(3)
        else:
            r = w / lim
            bins.append(0 if r <= 0.5 else 1 if r <= 1 else 2 if r <= 2 else 3)
    lat0 = math.radians(float(model.grid.lat.mean())) if len(model.grid) else 0.0
    aspect = 1 / max(0.1, math.cos(lat0))
    fig = Figure(figsize=(7.2, 7.2), dpi=90)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    polys = [[(x, y) for x, y in grids.boundary(f["properties"]["h3"])] for f in features]
    ax.add_collection(PolyCollection(polys, array=bins, cmap=ListedColormap(colours),
                                     clim=(-0.5, 4.5), linewidths=0, antialiased=False))
    for d in model.grid.districts:
        geom = d.geometry
        rings = (geom["coordinates"] if geom.get("type") == "Polygon"
                 else [r for p in geom.get("coordinates", []) for r in p])
        for ring in rings[:1] if geom.get("type") == "Polygon" else rings:
            ax.plot([p[0] for p in ring], [p[1] for p in ring], color="#222", lw=0.6)
    for row, d_index in zip(summary["districts"], range(len(model.grid.districts)),
                            strict=True):
        rows = model.grid.district == d_index
        if rows.any():
            ax.text(float(model.grid.lon[rows].mean()), float(model.grid.lat[rows].mean()),
                    f"{short_name(row['name_en'] or row['name'])}\n{row['share'] * 100:.0f}%",
                    ha="center", va="center", fontsize=7,
                    bbox={"boxstyle": "round", "fc": "white", "alpha": 0.75, "lw": 0})
    ax.autoscale_view()
    ax.set_aspect(aspect)
    ax.set_axis_off()
    total = summary["total"]
    ax.set_title(f"{summary['area']['name_en'] or summary['area']['name']}: "
                 f"{total['share'] * 100:.1f}% out of reach of a usable shelter "
                 f"({threat}, {int(warning[0]) if warning else 0} s warning)", fontsize=9)
    ax.legend(handles=[Patch(color=c, label=lab) for c, lab in zip(colours, labels,
                                                                  strict=True)],
              loc="lower left", fontsize=7, title="walk to nearest usable shelter",
              title_fontsize=7, framealpha=0.85)
    src = summary["population_source"]
    fig.text(0.01, 0.01, f"People: {src['label']}, {src['date']} ({src['method']}). "
             f"Reach: {summary['reach']['method']}. Districts © OpenStreetMap contributors.",
             fontsize=5.5, wrap=True)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()
