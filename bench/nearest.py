"""How fast "where do I go now?" is answered: `/v1/nearest` in process and over HTTP.

Prints, in one run:
  1. in-process p50/p99 of the raw index query (k nearest by great-circle distance) and of the
     whole `/v1/nearest` answer (query + ranking + reasons + JSON bytes), for the real Kyiv registry
     (3,694 shelters) and for a 65,000-shelter national-size synthetic set;
  2. HTTP requests/s for `/v1/nearest` served as users run it (`shelterwatch serve`, with its
     logging and middleware) beside a bare Starlette app in its own process
     (`bench/bare_nearest_app.py`) answering the index query alone and the same full answer;
     one uvicorn worker each, rounds interleaved, the order rotated every round; beside each
     rate, the server process's CPU per request (user + system), which a busy machine disturbs
     far less than the rate, and whose ratio is what the rates' ratio becomes on a quiet one.

Goals: in-process p99 <= 2 x the raw query and < 0.5 ms at 65,000 shelters (issue 5);
`/v1/nearest` >= 0.8 x the bare app's index query over HTTP (issue 15).

    .venv/bin/python bench/nearest.py [--queries 20000] [--seconds 4] [--connections 32]
                                      [--rounds 3] [--skip-in-process]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from shelterwatch import db
from shelterwatch.alerts import service as alerts
from shelterwatch.clock import utcnow
from shelterwatch.config import Settings
from shelterwatch.rules.ranking import WalkingModel
from shelterwatch.shelters.index import IndexedShelter, ShelterIndex
from shelterwatch.web.alert_board import AlertBoard
from shelterwatch.web.nearest import Nearest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import kyiv_database  # noqa: E402

POOL = Settings().nearest_pool


def national_index(n: int, seed: int = 7) -> ShelterIndex:
    """65,000 shelters clustered in towns across Ukraine's extent, 15 % scattered rurally."""
    rng = np.random.default_rng(seed)
    towns = rng.uniform([44.4, 22.2], [52.3, 40.2], size=(120, 2))
    weight = rng.pareto(1.2, 120) + 1
    weight /= weight.sum()
    pts = towns[rng.choice(120, size=n, p=weight)] + rng.normal(0, 0.05, size=(n, 2))
    rural = rng.random(n) < 0.15
    pts[rural] = rng.uniform([44.4, 22.2], [52.3, 40.2], size=(int(rural.sum()), 2))
    return ShelterIndex(IndexedShelter.from_public({
        "id": i + 1, "lat": float(a), "lon": float(b), "area_id": "31", "kind": "simple",
        "name": f"Укриття № {i + 1}", "address": f"вул. Тестова, {i + 1}",
        "capacity": [None, 50, 200][i % 3], "step_free": [None, True, False][i % 3]})
        for i, (a, b) in enumerate(pts))


def query_points(index: ShelterIndex, n: int, seed: int = 11) -> list[tuple[float, float]]:
    """Where residents stand: within a few hundred metres of some shelter (people live there)."""
    rnd = random.Random(seed)
    shelters = index.all()
    out = []
    for _ in range(n):
        s = shelters[rnd.randrange(len(shelters))]
        out.append((s.lat + rnd.gauss(0, 0.004), s.lon + rnd.gauss(0, 0.006)))
    return out


Lookup = Callable[[float, float], object]


def paired_percentiles(raw: Lookup, full: Lookup, points: list[tuple[float, float]],
                       rounds: int = 3) -> tuple[tuple[float, float], tuple[float, float]]:
    """p50/p99 (µs) of both functions, timed alternately on the same points.

    This machine is shared, so each point is timed raw-then-full: a stall hits both alike.
    The run is repeated `rounds` times and the median of each percentile is kept.
    """
    for lat, lon in points[:500]:
        raw(lat, lon)
        full(lat, lon)  # warm caches
    clock = time.perf_counter_ns
    results: list[tuple[float, float, float, float]] = []
    for _ in range(rounds):
        a, b = [], []
        for lat, lon in points:
            t0 = clock()
            raw(lat, lon)
            t1 = clock()
            full(lat, lon)
            t2 = clock()
            a.append(t1 - t0)
            b.append(t2 - t1)
        ra, rb = np.array(a) / 1000.0, np.array(b) / 1000.0
        results.append((float(np.percentile(ra, 50)), float(np.percentile(ra, 99)),
                        float(np.percentile(rb, 50)), float(np.percentile(rb, 99))))
    med = [statistics.median(r[i] for r in results) for i in range(4)]
    return (med[0], med[1]), (med[2], med[3])


def in_process(label: str, index: ShelterIndex, board: AlertBoard, queries: int) -> None:
    nearest = Nearest(index, board, WalkingModel(), pool=POOL)
    points = query_points(index, queries)

    def raw(lat: float, lon: float) -> object:
        return index.nearest(lat, lon, POOL)

    def full(lat: float, lon: float) -> object:
        return nearest.body(lat, lon, limit=3)

    gc.collect()
    gc.freeze()  # as a long-running server would after loading: old objects leave the GC's way
    (raw_p50, raw_p99), (full_p50, full_p99) = paired_percentiles(raw, full, points)
    print(f"  {label:<28} raw index query  p50 {raw_p50:7.1f} µs   p99 {raw_p99:7.1f} µs")
    print(f"  {'':<28} /v1/nearest body p50 {full_p50:7.1f} µs   p99 {full_p99:7.1f} µs"
          f"   (p99 = {full_p99 / raw_p99:.2f} × raw)")


# ---------- HTTP ----------

async def _one_connection(port: int, paths: list[bytes], deadline: float,
                          counts: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = 0
    try:
        while time.perf_counter() < deadline:
            writer.write(paths[i % len(paths)])
            i += 1
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(head.decode(errors="replace"))
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            counts[0] += 1
    finally:
        writer.close()


def load(port: int, path: str, points: list[tuple[float, float]], seconds: float,
         connections: int) -> tuple[float, int]:
    """Requests/s and requests answered over keep-alive connections (HTTP/1.1, one request in
    flight per connection)."""
    reqs = [f"GET {path}?lat={lat:.6f}&lon={lon:.6f} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()
            for lat, lon in points]

    async def run() -> tuple[float, int]:
        counts = [0]
        start = time.perf_counter()
        deadline = start + seconds
        await asyncio.gather(*(_one_connection(port, reqs[c::connections] or reqs, deadline,
                                               counts) for c in range(connections)))
        return counts[0] / (time.perf_counter() - start), counts[0]

    return asyncio.run(run())


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far: what a request costs the server, whatever
    else shares the machine (requests/s on a busy machine mostly measure the neighbours)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _started(args: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError(f"{args} did not start") from None
            time.sleep(0.2)


def http(database_url: str, index: ShelterIndex, seconds: float, connections: int,
         rounds: int) -> None:
    """The product as users run it (`shelterwatch serve`, its logging and middleware) beside a
    bare Starlette app in its own process, each one uvicorn worker; rounds interleaved."""
    # No live-coverage sweep at start: a server users run has long finished it; here its
    # seconds of CPU would land inside the first rounds and be measured as nearest's.
    env = {**os.environ, "DATABASE_URL": database_url, "SHELTERWATCH_LOG_FORMAT": "json",
           "SHELTERWATCH_COVERAGE_AREAS": ""}
    bare_port, product_port = _free_port(), _free_port()
    bare = _started([sys.executable, str(Path(__file__).with_name("bare_nearest_app.py")),
                     str(bare_port)], env, bare_port)
    product = _started([str(Path(sys.executable).with_name("shelterwatch")), "serve",
                        "--port", str(product_port)], env, product_port)
    targets = {"bare Starlette app, index query only": (bare_port, "/bare/index", bare.pid),
               "bare Starlette app, the same full answer": (bare_port, "/bare/answer", bare.pid),
               "`shelterwatch serve` /v1/nearest": (product_port, "/v1/nearest", product.pid)}
    try:
        points = query_points(index, 5000, seed=13)
        for port, path, _ in targets.values():
            load(port, path, points, 1.0, connections)  # warm up
        rates: dict[str, list[float]] = {name: [] for name in targets}
        costs: dict[str, list[float]] = {name: [] for name in targets}  # server CPU µs/request
        for n in range(rounds):  # interleaved, the order rotated, so background load hits all
            names = list(targets)[n % 3:] + list(targets)[:n % 3]
            for name in names:
                port, path, pid = targets[name]
                before = cpu_s(pid)
                rate, answered = load(port, path, points, seconds, connections)
                rates[name].append(rate)
                costs[name].append((cpu_s(pid) - before) / max(answered, 1) * 1e6)
            print(f"  round {n + 1}: " + ", ".join(f"{rates[k][-1]:,.0f}" for k in targets)
                  + " req/s; server CPU " + ", ".join(f"{costs[k][-1]:.0f}" for k in targets)
                  + f" µs/request; load average {_load()}")
        med = {name: statistics.median(r) for name, r in rates.items()}
        cpu = {name: statistics.median(c) for name, c in costs.items()}
        product_name = list(targets)[2]
        for name, r in rates.items():
            ratio = "" if name == product_name else \
                (f"   product = {med[product_name] / med[name]:.2f} × this "
                 f"(by CPU per request {cpu[name] / cpu[product_name]:.2f} ×)")
            print(f"  {name:<42} {min(r):8,.0f}–{max(r):8,.0f} req/s "
                  f"(median {med[name]:,.0f}; server CPU {cpu[name]:.0f} µs/request){ratio}")
    finally:
        for proc in (bare, product):
            proc.terminate()
            proc.wait(10)


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-in-process", action="store_true",
                        help="only the HTTP comparison")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'kyiv.sqlite3'}"
        kyiv_database(url)
        with db.reading(url) as session:
            kyiv, _ = ShelterIndex.load(session)
            board = AlertBoard.load(session, now=utcnow(), config=alerts.warning_config())
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, pool {POOL} candidates; "
              f"load average {_load()}")
        if not args.skip_in_process:
            print("in-process (per look-up):")
            in_process(f"Kyiv registry ({len(kyiv):,})", kyiv, board, args.queries)
            national = national_index(65_000)
            in_process(f"national set ({len(national):,})", national, board, args.queries)
        print(f"HTTP, Kyiv registry, each server one uvicorn worker in its own process, "
              f"{args.connections} keep-alive connections, {args.rounds} × {args.seconds:g} s:")
        http(url, kyiv, args.seconds, args.connections, args.rounds)


if __name__ == "__main__":
    main()
