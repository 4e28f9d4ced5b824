"""`shelterwatch basemap build`: an OpenStreetMap extract becomes one PMTiles archive and a style.

Real tools do the work: osmium-tool keeps only what the resident's map draws (streets, buildings,
water, house numbers), tilemaker cuts vector tiles with our own small schema
(`tilemaker/config.json`, `tilemaker/process.lua`), and the `pmtiles` package packs them into one
archive the app reads tile by tile. The extract's streets and house numbers also become a
gazetteer for the offline address search. Everything is written to a temporary folder first and
moved into place at the end, so a failed build leaves the previous basemap untouched.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import datetime
from importlib.resources import files
from pathlib import Path

from pmtiles.convert import mbtiles_to_pmtiles

from shelterwatch.basemap import streets
from shelterwatch.basemap.archive import ARCHIVE, GAZETTEER, MANIFEST, STYLE, Archive

MAX_ZOOM = 14
ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0"
# Only what the map draws or the search finds: osmium tags-filter expressions.
KEEP = ["nwr/highway", "nwr/building", "nwr/natural=water", "nwr/waterway",
        "nwr/landuse=reservoir,basin", "nwr/addr:housenumber"]


class BasemapError(ValueError):
    """A build that cannot go on, with the one-line reason the CLI prints."""


@dataclass(frozen=True, slots=True)
class Built:
    directory: Path
    tiles: int
    archive_bytes: int
    streets: int
    addresses: int


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BasemapError(f"{name} is not installed: run scripts/system-deps.sh "
                           f"(apt-get install {'osmium-tool' if name == 'osmium' else name})")
    return path


def _run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip()).splitlines()
        raise BasemapError(f"{Path(args[0]).name} failed: {last[-1] if last else done.returncode}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build(extract: Path, out: Path, *, now: datetime) -> Built:
    """Build the basemap of `extract` into `out` (replacing what was there)."""
    if not extract.is_file():
        raise BasemapError(f"no such extract: {extract}")
    osmium, tilemaker = _tool("osmium"), _tool("tilemaker")
    config = files("shelterwatch.basemap") / "tilemaker"
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".basemap-", dir=out.parent) as tmp_name:
        tmp = Path(tmp_name)
        filtered = tmp / "filtered.osm.pbf"
        _run([osmium, "tags-filter", str(extract), *KEEP, "-o", str(filtered), "--overwrite"])
        found = streets.read(filtered)
        if found.bbox is None:
            raise BasemapError(f"{extract.name} has no streets, buildings or water to draw")
        mbtiles = tmp / "tiles.mbtiles"
        _run([tilemaker, "--input", str(filtered), "--output", str(mbtiles),
              "--config", str(config / "config.json"), "--process", str(config / "process.lua"),
              "--bbox", ",".join(f"{v:.6f}" for v in found.bbox), "--threads", "2"])
        staged = tmp / "out"
        staged.mkdir()
        mbtiles_to_pmtiles(str(mbtiles), str(staged / ARCHIVE), MAX_ZOOM)
        tiles = Archive.count_tiles(staged / ARCHIVE)
        style = json.loads((files("shelterwatch.basemap") / "style.json")
                           .read_text(encoding="utf-8"))
        (staged / STYLE).write_text(json.dumps(style, ensure_ascii=False, indent=1),
                                    encoding="utf-8")
        (staged / GAZETTEER).write_text(json.dumps(found.gazetteer(), ensure_ascii=False),
                                        encoding="utf-8")
        manifest = {"built_at": now.isoformat(), "extract": extract.name,
                    "extract_sha256": _sha256(extract), "bbox": found.bbox,
                    "min_zoom": 10, "max_zoom": MAX_ZOOM, "tiles": tiles,
                    "attribution": ATTRIBUTION}
        (staged / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        old = None
        if out.exists():
            old = tmp / "previous"
            out.rename(old)
        staged.rename(out)
    return Built(out, tiles, (out / ARCHIVE).stat().st_size, len(found.streets),
                 len(found.addresses))
