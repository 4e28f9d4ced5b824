"""Acknowledged residents' reports per second, beside a bare durable insert of the same row.

For each database (SQLite, and PostgreSQL when reachable) it makes a fresh database with the real
Kyiv registry and measures, with C concurrent clients for D seconds each, R rounds, the product
and its baseline interleaved in every round (A, B, A, B, ...) so the machine's load falls on both:

* over HTTP: the product as users run it (`shelterwatch serve`, its logging on) answering
  `POST /v1/reports` with `locked` reports; a report counts once it was answered 201, i.e.
  committed with its facts, status re-derivation and idempotency receipt (group commit: many
  reports may share one commit). Beside it, `bench/bare_insert_app.py`: a tiny Starlette app of
  its own, served by the same uvicorn, whose one route validates the same body and commits one raw
  driver INSERT of the same observation row per request.
* in-process, no HTTP: C threads handing reports to the process's report writer and waiting for
  each commit, beside C threads each committing one raw driver INSERT (sqlite3 with WAL and
  synchronous=FULL, or psycopg) of the same row per call.

The goals (issue 9): acknowledged reports at least 0.6 of the bare HTTP rate and 0.5 of the raw
in-process rate. The machine is shared, so the figures print per round, then the median and the
range, with the load average beside them. Beside each rate is the CPU it cost per report (ms):
the server process's, read from /proc, over HTTP; this process's, all threads, in-process. On a
busy machine the rates move with the load, the CPU per report much less.

    .venv/bin/python bench/reports.py [--seconds 10] [--clients 16] [--rounds 3]
                                      [--pg URL | --no-pg]
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import httpx
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bare_insert_app import insert_one  # noqa: E402
from bench.common import pg_database  # noqa: E402
from tests.support.server import free_port  # noqa: E402

from shelterwatch import db, migrate  # noqa: E402
from shelterwatch.areas import service as areas  # noqa: E402
from shelterwatch.clock import utcnow  # noqa: E402
from shelterwatch.config import Settings  # noqa: E402
from shelterwatch.ingest import mapping as mappings  # noqa: E402
from shelterwatch.ingest import registry_csv  # noqa: E402
from shelterwatch.observations import idempotency  # noqa: E402
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


Measured = tuple[float, float]  # successes per second, CPU ms per success


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user and system) a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def in_parallel(clients: int, seconds: float, one: Callable[[int, int], bool],
                cpu: Callable[[], float] = time.process_time) -> Measured:
    """Run `one(worker, n)` from `clients` threads for `seconds`; returns successes per second
    and the CPU milliseconds per success that `cpu` (seconds so far) counted meanwhile."""
    done = [0] * clients
    stop = threading.Event()

    def loop(worker: int) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            if one(worker, n):
                done[worker] += 1

    threads = [threading.Thread(target=loop, args=(w,)) for w in range(clients)]
    start, cpu_start = time.perf_counter(), cpu()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    total = sum(done)
    return total / (time.perf_counter() - start), 1000 * (cpu() - cpu_start) / max(total, 1)


# Every anonymous-write limit lifted: the bench measures the write path, not the limits (every
# bench client is 127.0.0.1, and each reports about many shelters).
UNLIMITED = {f"SHELTERWATCH_{name.upper()}": "100000000" for name in (
    "reports_per_address_per_minute", "reports_per_device_per_hour",
    "shelters_per_network_per_hour", "shelters_per_device_per_hour",
    "shelters_per_network_issued_per_hour")}


class Server:
    """A server in a subprocess on a free loopback port, answering once `ready` says 200."""

    def __init__(self, command: list[str], url: str, log_path: Path, ready: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "DATABASE_URL": url, **UNLIMITED,
               "SHELTERWATCH_COVERAGE_AREAS": "",  # no coverage sweep beside the figures
               "PYTHONPATH": os.pathsep.join([str(ROOT / "bench"), str(ROOT / "src")])}
        self.proc = subprocess.Popen(
            [c.replace("{port}", str(self.port)) for c in command],
            env=env, stdout=log_path.open("ab"), stderr=subprocess.STDOUT, cwd=ROOT / "bench")
        deadline = time.monotonic() + 180  # a loaded machine starts a server slowly
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}{ready}", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not start: {log_path.read_text()[-2000:]}")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(20)


def product(url: str, workdir: Path) -> Server:
    """`shelterwatch serve`, as users run it (its own logging, no bench-only code)."""
    cli = str(Path(sys.executable).parent / "shelterwatch")
    return Server([cli, "serve", "--host", "127.0.0.1", "--port", "{port}"], url,
                  workdir / "product.log", "/v1/areas")


def bare(url: str, workdir: Path) -> Server:
    """The tiny bare-insert app under the same uvicorn and log level as the product."""
    return Server([sys.executable, "-m", "uvicorn", "bare_insert_app:app", "--host",
                   "127.0.0.1", "--port", "{port}", "--log-level", "info", "--no-access-log"],
                  url, workdir / "bare.log", "/ready")


def report_body(shelters: list[int], worker: int, n: int) -> dict[str, object]:
    return {"shelter_id": shelters[(worker * 7919 + n) % len(shelters)], "kind": "locked",
            "device_id": f"bench-{worker:03d}-{n:07d}", "lat": 50.45, "lon": 30.52}


def over_http(server: Server, path: str, shelters: list[int], clients: int,
              seconds: float) -> Measured:
    """201s per second from `clients` HTTP clients posting reports to `path`, and the server's
    CPU per 201."""
    local = threading.local()

    def post(worker: int, n: int) -> bool:
        if not hasattr(local, "http"):
            local.http = httpx.Client(base_url=server.url, timeout=30)
        r = local.http.post(path, json=report_body(shelters, worker, n),
                            headers={"Idempotency-Key": f"b-{worker}-{n}-"
                                                        f"{secrets.token_hex(4)}"})
        return r.status_code == 201

    in_parallel(clients, 1.0, post)  # warm up
    return in_parallel(clients, seconds, post, cpu=lambda: process_cpu_s(server.proc.pid))


def reports_in_process(url: str, shelters: list[int], clients: int,
                       seconds: float) -> Measured:
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


def raw_inserts_per_s(url: str, shelters: list[int], clients: int, seconds: float) -> Measured:
    """Raw driver INSERTs of the same row, one durable transaction each, from `clients` threads
    (each its own connection)."""
    raw = url.replace("postgresql+psycopg://", "postgresql://", 1)

    def one(worker: int, n: int) -> bool:
        insert_one(raw, "locked", shelters[n % len(shelters)])
        return True

    in_parallel(clients, 1.0, one)
    return in_parallel(clients, seconds, one)


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def summary(name: str, path: str, product_runs: list[Measured], bare_runs: list[Measured],
            goal: float) -> str:
    acked, base = [r for r, _ in product_runs], [r for r, _ in bare_runs]
    ratios = [a / b for a, b in zip(acked, base, strict=True)]
    med_a, med_b = statistics.median(acked), statistics.median(base)
    cpu_a = statistics.median(c for _, c in product_runs)
    cpu_b = statistics.median(c for _, c in bare_runs)
    return (f"{name:>10}  {path:<11} {med_a:8.1f} [{min(acked):.0f}-{max(acked):.0f}]"
            f" {med_b:8.1f} [{min(base):.0f}-{max(base):.0f}]  {med_a / med_b:.2f}"
            f" [{min(ratios):.2f}-{max(ratios):.2f}]  (goal >= {goal:.2f})"
            f"  CPU ms/report {cpu_a:.2f} / {cpu_b:.2f}")


def round_line(runs: tuple[list[Measured], list[Measured]]) -> str:
    (rate_a, cpu_a), (rate_b, cpu_b) = runs[0][-1], runs[1][-1]
    return f"{rate_a:.0f} / {rate_b:.0f} per s, CPU {cpu_a:.2f} / {cpu_b:.2f} ms per report"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
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
        print(f"{args.clients} concurrent clients, {args.seconds:g} s per measurement, "
              f"{args.rounds} rounds (product and baseline interleaved), {os.cpu_count()} CPUs;")
        print("acknowledged = committed before its 201 / its answer; bare = one raw INSERT of "
              "the same row committed per request (HTTP: its own Starlette app; in-process: "
              "the raw driver)")
        lines = []
        for name, url in lanes:
            shelters = prepare(url)
            http: tuple[list[Measured], list[Measured]] = ([], [])
            local: tuple[list[Measured], list[Measured]] = ([], [])
            # Both servers stay up through the HTTP rounds, and are stopped before the
            # in-process ones: an idle product server still follows the log (DESIGN §6), so it
            # would tax the in-process writer's commits and not the raw inserts'.
            served, baseline = product(url, workdir), bare(url, workdir)
            try:
                for r in range(args.rounds):
                    http[0].append(over_http(served, "/v1/reports", shelters, args.clients,
                                             args.seconds))
                    http[1].append(over_http(baseline, "/bare-insert", shelters, args.clients,
                                             args.seconds))
                    print(f"  {name} HTTP round {r + 1}: {round_line(http)}  ({load()})",
                          flush=True)
            finally:
                served.stop()
                baseline.stop()
            for r in range(args.rounds):
                local[0].append(reports_in_process(url, shelters, args.clients, args.seconds))
                local[1].append(raw_inserts_per_s(url, shelters, args.clients, args.seconds))
                print(f"  {name} in-process round {r + 1}: {round_line(local)}  ({load()})",
                      flush=True)
            lines += [summary(name, "HTTP", *http, 0.6),
                      summary(name, "in-process", *local, 0.5)]
        print(f"{'':>10}  {'path':<11} {'acknowledged/s [range]':>22} "
              f"{'bare/s [range]':>20}  ratio [range]")
        print("\n".join(lines))
        print(f"({load()} at the end)")


if __name__ == "__main__":
    main()
