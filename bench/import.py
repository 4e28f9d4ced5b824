"""Import throughput: rows/s for a 65,000-row national-size registry file.

Builds a CSV of 65,000 shelters at random points inside Ukraine's oblasts (seeded, so every run
imports the same file), imports it into a fresh database through the same code path as
`shelterwatch import` (read, validate, place in an area, upsert, append one fact per shelter,
commit), then imports it again (all unchanged). Prints rows/s for both.

    .venv/bin/python bench/import.py [--rows 65000] [--postgres ADMIN_URL]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import tempfile
import time
from importlib import resources
from pathlib import Path

from shapely.geometry import Point, shape
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from shelterwatch import db, migrate
from shelterwatch.areas import service as areas
from shelterwatch.clock import utcnow
from shelterwatch.ingest import mapping, registry_csv
from shelterwatch.shelters import importer

KINDS = ["simple", "dual_use", "shelter", "parking", "metro", "anti_radiation"]


def write_registry(path: Path, rows: int, seed: int = 7) -> None:
    rnd = random.Random(seed)
    text = resources.files("shelterwatch.data.areas").joinpath(
        "oblasts_osm_alertsinua_uid.geojson").read_text("utf-8")
    polygons = [shape(f["geometry"]) for f in json.loads(text)["features"]]
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["id", "name", "address", "lat", "lon", "kind", "capacity", "step_free"])
        n = 0
        while n < rows:
            poly = rnd.choice(polygons)
            minx, miny, maxx, maxy = poly.bounds
            lon, lat = rnd.uniform(minx, maxx), rnd.uniform(miny, maxy)
            if not poly.contains(Point(lon, lat)):
                continue
            n += 1
            out.writerow([f"ua-{n}", f"Укриття № {n}", f"вул. Тестова, {n}", f"{lat:.7f}",
                          f"{lon:.7f}", rnd.choice(KINDS), rnd.choice(["", "50", "200"]),
                          rnd.choice(["true", "false", ""])])


BENCH_DB = "sw_bench_import"


def _admin(admin: str, *statements: str) -> None:
    engine = create_engine(admin.replace("postgresql://", "postgresql+psycopg://", 1),
                           isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


def fresh_postgres(admin: str) -> str:
    _admin(admin, f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)", f"CREATE DATABASE {BENCH_DB}")
    return make_url(admin).set(database=BENCH_DB).render_as_string(hide_password=False)


def drop_postgres(admin: str) -> None:
    _admin(admin, f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


def timed_import(url: str, path: Path) -> tuple[float, importer.ImportSummary]:
    start = time.perf_counter()
    with db.transaction(url) as session:
        summary = importer.import_records(session, registry_csv.read(path, mapping.DEFAULT),
                                          source="bench", now=utcnow())
    return time.perf_counter() - start, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=65_000)
    parser.add_argument("--postgres", metavar="ADMIN_URL", default=None,
                        help="measure PostgreSQL in a fresh database `sw_bench_import` made "
                             "through this server (e.g. postgresql://postgres@127.0.0.1/postgres);"
                             " default: a fresh SQLite file in a temporary directory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "registry.csv"
        write_registry(path, args.rows)
        url = (fresh_postgres(args.postgres) if args.postgres
               else f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        migrate.upgrade(url)
        with db.transaction(url) as session:
            areas.load_bundled(session, now=utcnow())
        backend = db.engine_for(url).dialect.name
        first, summary = timed_import(url, path)
        again, summary2 = timed_import(url, path)
        print(f"backend: {backend}; file: {args.rows:,} rows")
        print(f"first import: {summary.created:,} created, {len(summary.rejected)} rejected "
              f"in {first:.2f} s = {args.rows / first:,.0f} rows/s")
        print(f"re-import:    {summary2.unchanged:,} unchanged in {again:.2f} s = "
              f"{args.rows / again:,.0f} rows/s")
        db.dispose(url)
        if args.postgres:
            drop_postgres(args.postgres)


if __name__ == "__main__":
    main()
