"""How fast "where do I go now?" is answered: `/v1/nearest` in process and over HTTP.

Prints, in one run:
  1. in-process p50/p99 of the raw index query (k nearest by great-circle distance) and of the
     whole `/v1/nearest` answer (query + ranking + reasons + orjson), for the real Kyiv registry
     (3,694 shelters) and for a 65,000-shelter national-size synthetic set;
  2. HTTP requests/s for `/v1/nearest` beside a bare Starlette + orjson endpoint doing the same
     index query, both served by the same single uvicorn worker over the Kyiv registry.

Goals (issue 5): in-process p99 <= 2 x the raw query and < 0.5 ms at 65,000 shelters;
`/v1/nearest` >= 0.6 x the bare endpoint's requests/s.

    .venv/bin/python bench/nearest.py [--queries 20000] [--seconds 5] [--connections 32]
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
from importlib import resources
from pathlib import Path

import numpy as np
import orjson

from shelterwatch import db, migrate
from shelterwatch.alerts import service as alerts
from shelterwatch.areas import service as areas
from shelterwatch.clock import utcnow
from shelterwatch.config import Settings
from shelterwatch.ingest import mapping, registry_csv
from shelterwatch.rules.ranking import WalkingModel
from shelterwatch.shelters import importer
from shelterwatch.shelters.index import IndexedShelter, ShelterIndex
from shelterwatch.web.alert_board import AlertBoard
from shelterwatch.web.nearest import Nearest

KYIV = Path(str(resources.files("shelterwatch.data.kyiv")))
POOL = Settings().nearest_pool


def kyiv_database(url: str) -> None:
    migrate.upgrade(url)
    with db.transaction(url) as session:
        areas.load_bundled(session, now=utcnow())
        importer.import_records(
            session, registry_csv.read(KYIV / "kyiv_shelters_2022-02-25.csv",
                                       mapping.load(KYIV / "kmda-2022.toml")),
            source="kmda-2022", now=utcnow())


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
        return orjson.dumps(nearest.answer(lat, lon, limit=3))

    gc.collect()
    gc.freeze()  # as a long-running server would after loading: old objects leave the GC's way
    (raw_p50, raw_p99), (full_p50, full_p99) = paired_percentiles(raw, full, points)
    print(f"  {label:<28} raw index query  p50 {raw_p50:7.1f} µs   p99 {raw_p99:7.1f} µs")
    print(f"  {'':<28} /v1/nearest body p50 {full_p50:7.1f} µs   p99 {full_p99:7.1f} µs"
          f"   (p99 = {full_p99 / raw_p99:.2f} × raw)")


# ---------- HTTP ----------

def serve(database_url: str, port: int) -> None:
    """The real app plus a bare Starlette + orjson endpoint doing the same index query."""
    import uvicorn
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from shelterwatch.app import create_app

    settings = Settings(database_url=database_url, coverage_areas="")  # no coverage sweep
    app = create_app(settings)

    async def bare(request: Request) -> Response:
        q = request.query_params
        hits = app.state.shelter_index.nearest(float(q["lat"]), float(q["lon"]), POOL)
        body = [{"id": s.id, "distance_m": d} for s, d in hits[:3]]
        return Response(orjson.dumps(body), media_type="application/json")

    app.router.routes.insert(0, Route("/bench/bare", bare))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


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
         connections: int) -> float:
    """Requests/s over keep-alive connections (HTTP/1.1, one request in flight per connection)."""
    reqs = [f"GET {path}?lat={lat:.6f}&lon={lon:.6f} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()
            for lat, lon in points]

    async def run() -> float:
        counts = [0]
        start = time.perf_counter()
        deadline = start + seconds
        await asyncio.gather(*(_one_connection(port, reqs[c::connections] or reqs, deadline,
                                               counts) for c in range(connections)))
        return counts[0] / (time.perf_counter() - start)

    return asyncio.run(run())


def http(database_url: str, index: ShelterIndex, seconds: float, connections: int) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": database_url}
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port)], env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("bench server did not start") from None
                time.sleep(0.2)
        points = query_points(index, 5000, seed=13)
        load(port, "/v1/nearest", points, 1.0, connections)  # warm up both
        load(port, "/bench/bare", points, 1.0, connections)
        bare, real = [], []
        for _ in range(3):  # interleave, so background load hits both alike
            bare.append(load(port, "/bench/bare", points, seconds, connections))
            real.append(load(port, "/v1/nearest", points, seconds, connections))
        b, r = statistics.median(bare), statistics.median(real)
        print(f"  bare Starlette + orjson, same index query: {b:8,.0f} req/s")
        print(f"  /v1/nearest (full answer):                 {r:8,.0f} req/s"
              f"   (= {r / b:.2f} × bare)")
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(os.environ["DATABASE_URL"], args.serve)
        return
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'kyiv.sqlite3'}"
        kyiv_database(url)
        with db.reading(url) as session:
            kyiv, _ = ShelterIndex.load(session)
            board = AlertBoard.load(session, now=utcnow(), config=alerts.warning_config())
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, pool {POOL} candidates")
        print("in-process (per look-up):")
        in_process(f"Kyiv registry ({len(kyiv):,})", kyiv, board, args.queries)
        national = national_index(65_000)
        in_process(f"national set ({len(national):,})", national, board, args.queries)
        print(f"HTTP, one uvicorn worker, {args.connections} keep-alive connections, "
              f"median of 3 × {args.seconds:g} s:")
        http(url, kyiv, args.seconds, args.connections)


if __name__ == "__main__":
    main()
