"""Import throughput through the command line, beside a raw driver insert of the same rows.

Two imports a city runs when it first sets shelterwatch up, each timed as the operator runs it
(`shelterwatch import FILE`, `shelterwatch keyholders import FILE`: a new process, reading and
validating the file, placing every shelter in an area, upserting, one fact per shelter or person
hash-chained into the log, one commit):

  A. raw driver: the rows the command stored (read back from a database it filled), inserted
     into a fresh copy of the same database by the bare driver in one transaction — `sqlite3`'s
     executemany with the same WAL and synchronous=FULL, or psycopg's COPY: the ceiling;
  B. the command, in a new process, on another fresh copy.

A and B alternate, the order swapped every round, on fresh copies of one template (seeded
files: every run imports the same rows). Prints rows/s per round, the range and the median, the
ratio B / A, and the load average before and after. Goal (issue 15): B >= 20,000 rows/s for both.

    .venv/bin/python bench/import.py [--rows 65000] [--keyholders 10000] [--rounds 3]
                                     [--postgres ADMIN_URL]
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from shapely.geometry import Point, shape
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from shelterwatch import db, migrate
from shelterwatch.areas import service as areas
from shelterwatch.clock import utcnow

KINDS = ["simple", "dual_use", "shelter", "parking", "metro", "anti_radiation"]
SHELTERWATCH = str(Path(sys.executable).with_name("shelterwatch"))


def write_registry(path: Path, rows: int, seed: int = 7) -> None:
    """`rows` shelters at random points inside Ukraine's oblasts (seeded)."""
    rnd = random.Random(seed)
    geojson = resources.files("shelterwatch.data.areas").joinpath(
        "oblasts_osm_alertsinua_uid.geojson").read_text("utf-8")
    polygons = [shape(f["geometry"]) for f in json.loads(geojson)["features"]]
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


def write_keyholders(path: Path, people: int, shelters: int, seed: int = 11) -> int:
    """`people` keyholders (a third hold two shelters) and one owner per 50; returns rows."""
    rnd = random.Random(seed)
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["role", "name", "shelter_id", "email", "sms", "telegram", "webhook"])
        for n in range(people):
            held = [rnd.randrange(1, shelters + 1)]
            if n % 3 == 0:
                held.append(rnd.randrange(1, shelters + 1))
            for sid in held:
                out.writerow(["keyholder", f"Ключник {n}", sid, f"k{n}@example.invalid",
                              f"+38050{n:07d}", "", f"http://127.0.0.1:9/hook/{n}"])
                rows += 1
        for n in range(people // 50):
            out.writerow(["owner", f"Балансоутримувач {n}", rnd.randrange(1, shelters + 1),
                          f"owner{n}@example.invalid", "", "", ""])
            rows += 1
    return rows


# ---------- fresh databases from templates ----------

class Databases:
    """Templates made once; every timed import gets a fresh copy of one."""

    def __init__(self, workdir: Path, admin: str | None) -> None:
        self.workdir, self.admin = workdir, admin
        self.names = itertools.count()
        self.made: list[str] = []

    def url(self, name: str) -> str:
        if self.admin is None:
            return f"sqlite:///{self.workdir / f'{name}.sqlite3'}"
        return make_url(self.admin).set(drivername="postgresql+psycopg", database=name) \
            .render_as_string(hide_password=False)

    def _admin(self, sql: str) -> None:
        assert self.admin is not None
        engine = create_engine(self.admin.replace("postgresql://", "postgresql+psycopg://", 1),
                               isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(sql))
        engine.dispose()

    def template(self, name: str, fill: Callable[[str], None]) -> str:
        if self.admin is not None:
            self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            self._admin(f"CREATE DATABASE {name}")
            self.made.append(name)
        url = self.url(name)
        fill(url)
        db.dispose(url)
        return name

    def copy(self, template: str) -> str:
        name = f"sw_bench_import_{next(self.names)}"
        if self.admin is None:
            shutil.copyfile(self.workdir / f"{template}.sqlite3", self.workdir / f"{name}.sqlite3")
        else:
            self._admin(f"CREATE DATABASE {name} TEMPLATE {template}")
            self.made.append(name)
        return self.url(name)

    def drop(self, url: str) -> None:
        db.dispose(url)
        if self.admin is None:
            for suffix in ("", "-wal", "-shm"):
                Path(make_url(url).database + suffix).unlink(missing_ok=True)  # type: ignore[operator]
        else:
            self._admin(f"DROP DATABASE IF EXISTS {make_url(url).database} WITH (FORCE)")

    def close(self) -> None:
        if self.admin is not None:
            for name in self.made:
                self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# ---------- the raw driver ----------

@contextmanager
def raw_connection(url: str) -> Iterator[Any]:
    if url.startswith("sqlite"):
        conn = sqlite3.connect(make_url(url).database, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")  # as shelterwatch: a commit survives power loss
    else:
        import psycopg

        conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1))
    try:
        yield conn
    finally:
        conn.close()


def stored_rows(url: str, table: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """What an import stored in `table`, in the driver's own types, to insert again raw."""
    with raw_connection(url) as conn:
        cur = conn.execute(f"SELECT * FROM {table}")
        columns = [d[0] for d in cur.description]
        return columns, list(cur.fetchall())


def raw_insert(url: str, tables: list[tuple[str, list[str], list[tuple[Any, ...]]]]) -> None:
    with raw_connection(url) as conn:
        if url.startswith("sqlite"):
            conn.execute("BEGIN IMMEDIATE")
            for table, columns, rows in tables:
                marks = ", ".join("?" * len(columns))
                conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) "
                                 f"VALUES ({marks})", rows)
            conn.execute("COMMIT")
        else:
            with conn.cursor() as cur:
                for table, columns, rows in tables:
                    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
            conn.commit()


# ---------- the command ----------

def command(url: str, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "SHELTERWATCH_LOG_FORMAT": "text"}
    done = subprocess.run([SHELTERWATCH, *args], env=env, capture_output=True, text=True,
                          timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"shelterwatch {' '.join(args)}: {done.stderr or done.stdout}")


def timed(work: Callable[[], None]) -> tuple[float, float]:
    """Wall seconds, and CPU seconds of this process and the commands it ran (the machine is
    shared: CPU time says what the work cost, wall time what the operator waited)."""
    def cpu() -> float:
        me = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime

    start, cpu_start = time.perf_counter(), cpu()
    work()
    return time.perf_counter() - start, cpu() - cpu_start


def load_average() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def summary(label: str, rows: int, seconds: list[tuple[float, float]]) -> float:
    rates = [rows / wall for wall, _ in seconds]
    per_cpu = statistics.median(rows / cpu for _, cpu in seconds)
    med = statistics.median(rates)
    print(f"  {label:<44} {min(rates):>9,.0f}–{max(rates):>9,.0f} rows/s "
          f"(median {med:,.0f}; rounds: {', '.join(f'{r:,.0f}' for r in rates)}; "
          f"per CPU second {per_cpu:,.0f})")
    return med


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=65_000, help="shelters in the registry file")
    parser.add_argument("--keyholders", type=int, default=10_000, help="people in the list")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", metavar="ADMIN_URL", default=None,
                        help="measure PostgreSQL in fresh databases made through this server "
                             "(e.g. postgresql://postgres@127.0.0.1/postgres); default: SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        registry, people = work / "registry.csv", work / "keyholders.csv"
        write_registry(registry, args.rows)
        kh_rows = write_keyholders(people, args.keyholders, args.rows)
        dbs = Databases(work, args.postgres)
        try:
            run(dbs, registry, people, args.rows, kh_rows, args.rounds)
        finally:
            dbs.close()


def run(dbs: Databases, registry: Path, people: Path, rows: int, kh_rows: int,
        rounds: int) -> None:
    def with_areas(url: str) -> None:
        migrate.upgrade(url)
        with db.transaction(url) as session:
            areas.load_bundled(session, now=utcnow())

    def with_registry(url: str) -> None:
        with_areas(url)
        command(url, "import", str(registry), "--source", "bench")

    empty = dbs.template("sw_bench_import_areas", with_areas)
    filled = dbs.template("sw_bench_import_registry", with_registry)
    # What the commands store, read back once (an untimed run of each, which also warms up).
    filled_url = dbs.url(filled)
    shelters = [("shelters", *stored_rows(filled_url, "shelters"))]
    sample = dbs.copy(filled)
    command(sample, "keyholders", "import", str(people))
    people_rows = [(t, *stored_rows(sample, t)) for t in
                   ("owners", "keyholders", "owner_shelters", "keyholder_shelters")]
    dbs.drop(sample)

    backend = "PostgreSQL (psycopg COPY)" if dbs.admin else "SQLite (sqlite3 executemany)"
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; {backend}; "
          f"registry {rows:,} rows, keyholders {kh_rows:,} rows "
          f"({sum(len(t[2]) for t in people_rows):,} rows stored); load average {load_average()}")
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in
                                     ("raw_reg", "cli_reg", "cli_again", "raw_kh", "cli_kh")}
    for n in range(rounds):
        order = ("raw", "cli") if n % 2 == 0 else ("cli", "raw")
        for which in order:
            url = dbs.copy(empty)
            if which == "raw":
                times["raw_reg"].append(timed(lambda u=url: raw_insert(u, shelters)))
            else:
                times["cli_reg"].append(timed(lambda u=url: command(
                    u, "import", str(registry), "--source", "bench")))
                times["cli_again"].append(timed(lambda u=url: command(
                    u, "import", str(registry), "--source", "bench")))
            dbs.drop(url)
        for which in order:
            url = dbs.copy(filled)
            if which == "raw":
                times["raw_kh"].append(timed(lambda u=url: raw_insert(u, people_rows)))
            else:
                times["cli_kh"].append(timed(lambda u=url: command(
                    u, "keyholders", "import", str(people))))
            dbs.drop(url)
        print(f"  round {n + 1} done; load average {load_average()}")
    print(f"{rounds} rounds, A and B alternating:")
    a = summary("A registry, raw driver insert", rows, times["raw_reg"])
    b = summary("B `shelterwatch import` (65,000 created)" if rows == 65_000
                else "B `shelterwatch import` (all created)", rows, times["cli_reg"])
    summary("B again: re-import, all unchanged", rows, times["cli_again"])
    print(f"  registry: B / A = {b / a:.2f}")
    a = summary("A keyholders, raw driver insert", kh_rows, times["raw_kh"])
    b = summary("B `shelterwatch keyholders import`", kh_rows, times["cli_kh"])
    print(f"  keyholders: B / A = {b / a:.2f}")
    print(f"load average at the end: {load_average()}")


if __name__ == "__main__":
    main()
