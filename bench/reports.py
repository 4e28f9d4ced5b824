"""Acknowledged residents' reports per second, beside a bare insert of the same row.

For each database (SQLite, and PostgreSQL when reachable) it makes a fresh database with the real
Kyiv registry, starts the real server (uvicorn, one process), and has C concurrent clients post
`locked` reports for D seconds; a report counts once it was answered 201, i.e. committed with its
facts, status re-derivation and idempotency receipt. Then it times the same database committing a
bare INSERT of the same observation row, one transaction per row, with the same concurrency.
The goal (issue 4) is at least half of the bare rate.

    .venv/bin/python bench/reports.py [--seconds 10] [--clients 16] [--pg URL | --no-pg]
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import httpx
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.server import LiveServer  # noqa: E402

from shelterwatch import db, migrate  # noqa: E402
from shelterwatch.areas import service as areas  # noqa: E402
from shelterwatch.clock import utcnow  # noqa: E402
from shelterwatch.ingest import mapping as mappings  # noqa: E402
from shelterwatch.ingest import registry_csv  # noqa: E402
from shelterwatch.observations.models import Observation  # noqa: E402
from shelterwatch.shelters import importer  # noqa: E402
from shelterwatch.shelters.models import Shelter  # noqa: E402

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"


def prepare(url: str) -> list[int]:
    migrate.upgrade(url)
    kyiv = Path(str(resources.files("shelterwatch.data.kyiv")))
    with db.transaction(url) as session:
        areas.load_bundled(session, now=utcnow())
    with db.transaction(url) as session:
        importer.import_records(
            session, registry_csv.read(kyiv / "kyiv_shelters_2022-02-25.csv",
                                       mappings.load(kyiv / "kmda-2022.toml")),
            source="kmda-2022", now=utcnow())
    with db.reading(url) as session:
        ids = list(session.execute(select(Shelter.id).order_by(Shelter.id).limit(500)).scalars())
    db.dispose(url)
    return ids


def in_parallel(clients: int, seconds: float, one: Callable[[int, int], bool]) -> float:
    """Run `one(worker, n)` from `clients` threads for `seconds`; returns successes per second."""
    done = [0] * clients
    stop = threading.Event()

    def loop(worker: int) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            if one(worker, n):
                done[worker] += 1

    threads = [threading.Thread(target=loop, args=(w,)) for w in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    return sum(done) / (time.perf_counter() - start)


def reports_per_s(url: str, shelters: list[int], clients: int, seconds: float,
                  workdir: Path) -> float:
    env = {"DATABASE_URL": url, "SHELTERWATCH_REPORTS_PER_ADDRESS_PER_MINUTE": "100000000",
           "SHELTERWATCH_REPORTS_PER_DEVICE_PER_HOUR": "100000000"}
    server = LiveServer({**os.environ, **env}, workdir / "server.log").start()
    local = threading.local()
    try:
        def post(worker: int, n: int) -> bool:
            if not hasattr(local, "http"):
                local.http = httpx.Client(base_url=server.url, timeout=30)
            r = local.http.post("/v1/reports", json={
                "shelter_id": shelters[(worker * 7919 + n) % len(shelters)], "kind": "locked",
                "device_id": f"bench-{worker:03d}-{n:07d}", "lat": 50.45, "lon": 30.52},
                headers={"Idempotency-Key": f"bench-{worker}-{n}-{secrets.token_hex(4)}"})
            return r.status_code == 201

        in_parallel(clients, 1.0, post)  # warm up
        return in_parallel(clients, seconds, post)
    finally:
        server.stop()


def bare_inserts_per_s(url: str, shelters: list[int], clients: int, seconds: float) -> float:
    engine = db.make_engine(url)
    now = datetime.now(UTC)

    def one(worker: int, n: int) -> bool:
        row = {"id": f"B{worker:03d}{n:09d}"[:16], "shelter_id": shelters[n % len(shelters)],
               "kind": "locked", "role": "resident", "reporter": "d:" + "0" * 24,
               "distance_m": 12.5, "reason": "", "at": now, "alert_id": None,
               "incident_id": None, "routed_to": None, "seq": 0}
        with engine.begin() as conn:
            conn.execute(insert(Observation), row)
        return True

    rate = in_parallel(clients, seconds, one)
    engine.dispose()
    return rate


def pg_database(admin: str, name: str) -> str:
    admin_pg = admin.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(admin_pg, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return make_url(admin).set(database=name).render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--pg", default=os.environ.get("SHELTERWATCH_PG_URL", PG_DEFAULT))
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        lanes = [("sqlite", f"sqlite:///{workdir / 'bench.sqlite3'}")]
        if not args.no_pg:
            try:
                lanes.append(("postgresql", pg_database(args.pg, "sw_bench_reports")))
            except Exception as exc:  # no server: say so and bench SQLite alone
                print(f"postgresql: skipped ({type(exc).__name__}: {exc})".splitlines()[0])
        print(f"{args.clients} concurrent clients, {args.seconds:.0f} s per measurement")
        for name, url in lanes:
            shelters = prepare(url)
            acked = reports_per_s(url, shelters, args.clients, args.seconds, workdir)
            bare = bare_inserts_per_s(url, shelters, args.clients, args.seconds)
            print(f"{name:>10}: {acked:8.1f} acknowledged reports/s   {bare:8.1f} bare inserts/s"
                  f"   ratio {acked / bare:.2f} (goal >= 0.50)")


if __name__ == "__main__":
    main()
