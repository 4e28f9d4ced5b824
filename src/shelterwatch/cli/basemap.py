"""`shelterwatch basemap build EXTRACT --out DIR`: the street map the app serves itself."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shelterwatch.basemap import build as builder
from shelterwatch.cli.common import console, one_line_errors
from shelterwatch.clock import utcnow

app = typer.Typer(help="The resident's street map, from an OpenStreetMap extract.",
                  no_args_is_help=True)


@app.command("build")
@one_line_errors
def build(
    extract: Annotated[Path, typer.Argument(help="an OpenStreetMap extract (.osm.pbf or .osm), "
                                                 "e.g. a city cut of a Geofabrik extract")],
    out: Annotated[Path, typer.Option("--out", help="the folder to write; the app serves it "
                                                    "when SHELTERWATCH_BASEMAP_DIR names it")],
) -> None:
    """Cut vector tiles (osmium-tool, tilemaker) into one PMTiles archive, a style, a gazetteer."""
    built = builder.build(extract, out, now=utcnow())
    console.print(f"basemap: {built.tiles} tiles ({built.archive_bytes:,} bytes), "
                  f"{built.streets} named streets, {built.addresses} addresses in {out}; "
                  f"serve it with SHELTERWATCH_BASEMAP_DIR={out}", highlight=False)
