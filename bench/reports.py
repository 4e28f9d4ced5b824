"""Acknowledged residents' reports per second, beside a bare insert of the same row.

For each database (SQLite, and PostgreSQL when reachable) it makes a fresh database with the real
Kyiv registry and measures, with C concurrent clients for D seconds each:

* over HTTP: the real server (uvicorn, one process) answering `POST /v1/reports` with `locked`
  reports; a report counts once it was answered 201, i.e. committed with its facts, status
  re-derivation and idempotency receipt (group commit: many reports may share one commit).
  Beside it, the same server process (the real app plus one bench-only route, see
  `bench/bare_insert_app.py`) answering a request whose handler does a bare single-row INSERT of
  the same observation row and commits it, one transaction per request: same clients, same HTTP
  stack, same body validation. This is the like-for-like pair the goal is judged on.
* in-process, no HTTP: C threads handing reports to the process's report writer and waiting for
  each commit, beside C threads each committing a bare INSERT of the same row per call.

The goal (issue 4) is acknowledged reports at least half of the bare rate. The machine is shared
(2 cores, other work running), so figures move between runs; the ratios are taken from runs made
back to back.

    .venv/bin/python bench/reports.py [--seconds 10] [--clients 16] [--pg URL | --no-pg]
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
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

from tests.support.server import free_port  # noqa: E402

from shelterwatch import db, migrate  # noqa: E402
from shelterwatch.areas import service as areas  # noqa: E402
from shelterwatch.clock import utcnow  # noqa: E402
from shelterwatch.config import Settings  # noqa: E402
from shelterwatch.ingest import mapping as mappings  # noqa: E402
from shelterwatch.ingest import registry_csv  # noqa: E402
from shelterwatch.observations import idempotency  # noqa: E402
from shelterwatch.observations.models import Observation  # noqa: E402
from shelterwatch.reports.limits import ReportLimits  # noqa: E402
from shelterwatch.reports.schemas import ReportIn  # noqa: E402
from shelterwatch.reports.writer import Job, ReportWriter  # noqa: E402
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


# Every anonymous-write limit lifted: the bench measures the write path, not the limits (every
# bench client is 127.0.0.1, and each reports about many shelters).
UNLIMITED = {f"SHELTERWATCH_{name.upper()}": "100000000" for name in (
    "reports_per_address_per_minute", "reports_per_device_per_hour",
    "shelters_per_network_per_hour", "shelters_per_device_per_hour",
    "shelters_per_network_issued_per_hour")}


class Server:
    """`uvicorn MODULE:app` in a subprocess on a free loopback port, as the product is served."""

    def __init__(self, module: str, url: str, log_path: Path) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        env = {**os.environ, "DATABASE_URL": url, **UNLIMITED,
               "SHELTERWATCH_COVERAGE_AREAS": "",  # no coverage sweep beside the figures
               "PYTHONPATH": os.pathsep.join([str(ROOT / "bench"), str(ROOT / "src")])}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", f"{module}:app", "--host", "127.0.0.1",
             "--port", self.url.rsplit(":", 1)[1], "--log-level", "warning"],
            env=env, stdout=log_path.open("ab"), stderr=subprocess.STDOUT, cwd=ROOT)
        deadline = time.monotonic() + 180  # a loaded machine starts a server slowly
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/v1/areas", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not start: {log_path.read_text()[-2000:]}")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(20)


def report_body(shelters: list[int], worker: int, n: int) -> dict[str, object]:
    return {"shelter_id": shelters[(worker * 7919 + n) % len(shelters)], "kind": "locked",
            "device_id": f"bench-{worker:03d}-{n:07d}", "lat": 50.45, "lon": 30.52}


def over_http(module: str, path: str, url: str, shelters: list[int], clients: int,
              seconds: float, workdir: Path) -> float:
    """201s per second from `clients` HTTP clients posting reports to `path`."""
    server = Server(module, url, workdir / "server.log")
    local = threading.local()
    try:
        def post(worker: int, n: int) -> bool:
            if not hasattr(local, "http"):
                local.http = httpx.Client(base_url=server.url, timeout=30)
            r = local.http.post(path, json=report_body(shelters, worker, n),
                                headers={"Idempotency-Key": f"b-{worker}-{n}-"
                                                            f"{secrets.token_hex(4)}"})
            return r.status_code == 201

        in_parallel(clients, 1.0, post)  # warm up
        return in_parallel(clients, seconds, post)
    finally:
        server.stop()


def reports_in_process(url: str, shelters: list[int], clients: int, seconds: float) -> float:
    """Committed reports per second from `clients` threads handing them to the report writer."""
    limits = ReportLimits(Settings(**{k.removeprefix("SHELTERWATCH_").lower(): int(v)
                                      for k, v in UNLIMITED.items()}))
    writer = ReportWriter(url, limits=limits, tracking_prefix="KV")

    def one(worker: int, n: int) -> bool:
        done = threading.Event()
        outcome: list[object] = []
        report = ReportIn(**report_body(shelters, worker, n))  # type: ignore[arg-type]
        writer.put(Job(report, f"p-{worker}-{n}-{secrets.token_hex(4)}",
                       idempotency.request_hash(report.model_dump()), "127.0.0.1",
                       lambda o: (outcome.append(o), done.set())))
        done.wait()
        return getattr(outcome[0], "status_code", None) == 201

    in_parallel(clients, 1.0, one)
    rate = in_parallel(clients, seconds, one)
    db.dispose(url)
    return rate


def bare_inserts_per_s(url: str, shelters: list[int], clients: int, seconds: float) -> float:
    """Bare single-row INSERTs of the same row, one transaction each, from `clients` threads."""
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
        print(f"{args.clients} concurrent clients, {args.seconds:.0f} s per measurement, "
              f"{os.cpu_count()} CPUs; acknowledged = committed before its 201 / its answer;")
        print("bare = one INSERT of the same observation row committed per request, same clients")
        print(f"{'':>10}  {'path':<11} {'acknowledged/s':>14} {'bare inserts/s':>14}  ratio")
        for name, url in lanes:
            shelters = prepare(url)
            pairs = [
                ("HTTP", over_http("shelterwatch.asgi", "/v1/reports", url, shelters,
                                   args.clients, args.seconds, workdir),
                 over_http("bare_insert_app", "/bench/bare-insert", url, shelters,
                           args.clients, args.seconds, workdir)),
                ("in-process", reports_in_process(url, shelters, args.clients, args.seconds),
                 bare_inserts_per_s(url, shelters, args.clients, args.seconds)),
            ]
            for path, acked, bare in pairs:
                print(f"{name:>10}  {path:<11} {acked:14.1f} {bare:14.1f}  {acked / bare:.2f}"
                      f"  (goal >= 0.50)")


if __name__ == "__main__":
    main()
