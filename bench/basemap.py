"""What a city's street map costs: build time, archive size, and what a phone keeps offline.

No real city extract is bundled, so this builds a synthetic grid city shaped like Kyiv's centre
(streets every ~120 m over the given span, a building with a house number on every block side),
written as OSM XML, through the real `shelterwatch basemap build` (osmium-tool, tilemaker,
pmtiles). Prints the build's seconds, the tiles, the archive's bytes, the bytes the service
worker keeps (every tile, gzipped as served), the gazetteer's bytes, and the tile look-up's
time in process.

    .venv/bin/python bench/basemap.py [--km 6] [--spacing 120]
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from shelterwatch.basemap.archive import Archive
from shelterwatch.basemap.build import build

LAT0, LON0 = 50.4501, 30.5234


def write_city(path: Path, km: float, spacing_m: float) -> tuple[int, int]:
    dlat = spacing_m / 111_320
    dlon = spacing_m / (111_320 * math.cos(math.radians(LAT0)))
    n = int(km * 1000 / spacing_m)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6">']
    ids = iter(range(1, 10**9))
    grid: dict[tuple[int, int], int] = {}
    for i in range(n + 1):
        for j in range(n + 1):
            nid = next(ids)
            grid[i, j] = nid
            lines.append(f'<node id="{nid}" version="1" lat="{LAT0 + i * dlat:.7f}" '
                         f'lon="{LON0 + j * dlon:.7f}"/>')
    ways, buildings = [], 0
    for i in range(n + 1):
        kind = "primary" if i % 10 == 0 else "residential"
        ways.append(([grid[i, j] for j in range(n + 1)], kind, f"вулиця Широтна {i}"))
        ways.append(([grid[j, i] for j in range(n + 1)], kind, f"вулиця Меридіанна {i}"))
    for i in range(n):
        for j in range(n):
            lat, lon = LAT0 + (i + 0.3) * dlat, LON0 + (j + 0.5) * dlon
            d = dlat * 0.15
            ring = []
            for a, b in ((-d, -d), (-d, d), (d, d), (d, -d)):
                nid = next(ids)
                lines.append(f'<node id="{nid}" version="1" lat="{lat + a:.7f}" '
                             f'lon="{lon + b * 1.5:.7f}"/>')
                ring.append(nid)
            ways.append((ring + ring[:1], "building", f"вулиця Широтна {i}|{j + 1}"))
            buildings += 1
    for w, (refs, kind, name) in enumerate(ways, start=1):
        lines.append(f'<way id="{w}" version="1">')
        lines += [f'<nd ref="{r}"/>' for r in refs]
        if kind == "building":
            street, number = name.split("|")
            lines += ['<tag k="building" v="yes"/>', f'<tag k="addr:street" v="{street}"/>',
                      f'<tag k="addr:housenumber" v="{number}"/>']
        else:
            lines += [f'<tag k="highway" v="{kind}"/>', f'<tag k="name" v="{name}"/>']
        lines.append("</way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return 2 * (n + 1), buildings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--km", type=float, default=6.0, help="the city's side, km")
    parser.add_argument("--spacing", type=float, default=120.0, help="between streets, m")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        extract = Path(tmp) / "grid.osm"
        streets, buildings = write_city(extract, args.km, args.spacing)
        started = time.perf_counter()
        built = build(extract, Path(tmp) / "basemap", now=datetime.now(UTC))
        seconds = time.perf_counter() - started
        archive = Archive(built.directory)
        kept = sum(len(archive.tile(*t) or b"") for t in archive.tile_list)
        started = time.perf_counter()
        rounds = 20
        for _ in range(rounds):
            for t in archive.tile_list:
                archive.tile(*t)
        lookup_us = (time.perf_counter() - started) / (rounds * len(archive.tile_list)) * 1e6
        print(f"synthetic city {args.km:g} x {args.km:g} km: {streets} streets, "
              f"{buildings} buildings with house numbers "
              f"({extract.stat().st_size / 1e6:.1f} MB of OSM XML)")
        print(f"build: {seconds:.1f} s; {built.tiles} tiles (z10-14); archive "
              f"{built.archive_bytes / 1e6:.2f} MB")
        print(f"kept offline by the service worker: {kept / 1e6:.2f} MB of tiles + gazetteer "
              f"{len(archive.gazetteer) / 1e6:.2f} MB")
        print(f"tile look-up in process: {lookup_us:.1f} µs")
        archive.close()


if __name__ == "__main__":
    main()
