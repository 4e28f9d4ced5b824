"""Fan-out between API nodes: PostgreSQL LISTEN/NOTIFY against NATS JetStream, side by side.

Every API node must hear of every fact (a status, an alert, an incident) to refresh its index and
feed its SSE clients. Each trial starts N node processes and one publisher that commits a row
per fact, as the product does, and then:

- `pg`: the same transaction runs `pg_notify`; a node woken by its LISTEN connection reads the
  rows after the last it has (`SELECT … WHERE seq > $last`), as `log.follower` does;
- `nats`: after the commit the publisher publishes the fact to a JetStream stream (file storage,
  waiting for the stream's ack); a node takes it from an ordered push consumer, payload included.

Phase 1 publishes `--paced` facts at `--rate` a second: latency from the start of the write to
the last node holding the fact (p50, p99). Phase 2 publishes `--burst` facts as fast as one
publisher can: facts a second until the last node holds the last one. Trials of the two
transports alternate within each round, for every node count.

    .venv/bin/python bench/fanout.py [--nodes 2,4,8] [--rounds 3] [--paced 200] [--rate 100]
        [--burst 2000] [--pg ADMIN_URL] [--nats nats://127.0.0.1:4222]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import statistics
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

import psycopg

DB = "sw_bench_fanout"
CHANNEL = "sw_bench_fanout"
STREAM, SUBJECT = "SWFANOUT", "swfanout.facts"


def _dsn(admin: str, dbname: str) -> str:
    return psycopg.conninfo.make_conninfo(admin.replace("postgresql+psycopg", "postgresql"),
                                          dbname=dbname)


def setup_database(admin: str) -> str:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB}")
        conn.execute(f"CREATE DATABASE {DB}")
    dsn = _dsn(admin, DB)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE facts (seq bigserial PRIMARY KEY, sent double precision, "
                     "payload text)")
    return dsn


def pg_node(dsn: str, expected: int, ready: Any, out: Connection) -> None:
    """A node following the facts as the product does: woken by NOTIFY, reading the rows."""
    got: list[tuple[float, float]] = []  # (sent, held) per fact, in seq order
    with psycopg.connect(dsn, autocommit=True) as conn:
        last = conn.execute("SELECT coalesce(max(seq), 0) FROM facts").fetchone()[0]  # type: ignore[index]
        conn.execute(f"LISTEN {CHANNEL}")
        ready.release()
        while len(got) < expected:
            for _ in conn.notifies(timeout=1.0, stop_after=1):
                pass
            rows = conn.execute("SELECT seq, sent FROM facts WHERE seq > %s ORDER BY seq",
                                (last,)).fetchall()
            now = time.time()
            got.extend((sent, now) for _, sent in rows)
            if rows:
                last = rows[-1][0]
    out.send(got)


def nats_node(url: str, expected: int, ready: Any, out: Connection) -> None:
    async def run() -> list[tuple[float, float]]:
        import nats

        nc = await nats.connect(url)
        js = nc.jetstream()
        got: list[tuple[float, float]] = []
        done = asyncio.Event()

        async def on_message(msg: Any) -> None:
            _, sent_s = msg.data.decode().split(" ", 1)
            got.append((float(sent_s), time.time()))
            if len(got) >= expected:
                done.set()

        await js.subscribe(SUBJECT, cb=on_message, ordered_consumer=True)
        ready.release()
        await done.wait()
        await nc.close()
        return got

    out.send(asyncio.run(run()))


def publish_pg(dsn: str) -> tuple[Callable[[int], None], Callable[[], None]]:
    conn = psycopg.connect(dsn)

    def one(n: int) -> None:
        with conn.transaction():
            conn.execute("INSERT INTO facts (sent, payload) VALUES (%s, %s)",
                         (time.time(), f"fact {n}"))
            conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(n)))

    return one, conn.close


def publish_nats(dsn: str, url: str) -> tuple[Callable[[int], None], Callable[[], None]]:
    import nats

    conn = psycopg.connect(dsn)
    loop = asyncio.new_event_loop()
    nc = loop.run_until_complete(nats.connect(url))
    js = nc.jetstream()

    def one(n: int) -> None:
        sent = time.time()
        with conn.transaction():  # the fact is committed first, then published
            seq = conn.execute("INSERT INTO facts (sent, payload) VALUES (%s, %s) "
                               "RETURNING seq", (sent, f"fact {n}")).fetchone()[0]  # type: ignore[index]
        loop.run_until_complete(js.publish(SUBJECT, f"{seq} {sent}".encode()))

    def close() -> None:
        loop.run_until_complete(nc.close())
        loop.close()
        conn.close()

    return one, close


def reset_stream(url: str) -> None:
    async def run() -> None:
        import nats
        from nats.js.api import StorageType, StreamConfig

        nc = await nats.connect(url)
        js = nc.jetstream()
        try:
            await js.delete_stream(STREAM)
        except Exception:  # noqa: BLE001 - absent the first time
            pass
        await js.add_stream(StreamConfig(name=STREAM, subjects=[SUBJECT],
                                         storage=StorageType.FILE))
        await nc.close()

    asyncio.run(run())


def trial(kind: str, nodes: int, args: argparse.Namespace, dsn: str) -> dict[str, float]:
    if kind == "nats":
        reset_stream(args.nats)
    expected = args.paced + args.burst
    ctx = mp.get_context("fork")
    ready = ctx.Semaphore(0)
    pipes, procs = [], []
    for _ in range(nodes):
        parent, child = ctx.Pipe(duplex=False)
        target = pg_node if kind == "pg" else nats_node
        proc = ctx.Process(target=target, args=(dsn if kind == "pg" else args.nats, expected,
                                                ready, child))
        proc.start()
        pipes.append(parent)
        procs.append(proc)
    for _ in range(nodes):
        if not ready.acquire(timeout=60):
            raise RuntimeError(f"a {kind} node did not start")
    one, close = publish_pg(dsn) if kind == "pg" else publish_nats(dsn, args.nats)
    n = 0
    start = time.perf_counter()
    for _ in range(args.paced):
        n += 1
        one(n)
        time.sleep(max(0.0, start + n / args.rate - time.perf_counter()))
    burst_start = time.time()
    for _ in range(args.burst):
        n += 1
        one(n)
    close()
    results = [p.recv() for p in pipes]
    for proc in procs:
        proc.join(30)
    # per fact of the paced phase, the slowest node; then when the last node held the burst
    lags = sorted(max(got[i][1] - got[i][0] for got in results) for i in range(args.paced))
    held_all = max(got[-1][1] for got in results)
    return {"p50_ms": 1000 * statistics.median(lags),
            "p99_ms": 1000 * lags[min(len(lags) - 1, int(len(lags) * 0.99))],
            "per_s": args.burst / (held_all - burst_start)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", default="2,4,8")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--paced", type=int, default=200)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--burst", type=int, default=2000)
    parser.add_argument("--pg", default=os.environ.get(
        "SHELTERWATCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--nats", default="nats://127.0.0.1:4222")
    args = parser.parse_args()
    dsn = setup_database(args.pg)
    counts = [int(c) for c in args.nodes.split(",")]
    print(f"load average at start: {os.getloadavg()}")
    table: dict[tuple[str, int], list[dict[str, float]]] = {}
    for r in range(args.rounds):
        for nodes in counts:
            for kind in (("pg", "nats") if r % 2 == 0 else ("nats", "pg")):
                got = trial(kind, nodes, args, dsn)
                table.setdefault((kind, nodes), []).append(got)
                print(f"round {r + 1} {kind:4} {nodes} nodes: p50 {got['p50_ms']:.1f} ms, "
                      f"p99 {got['p99_ms']:.1f} ms, {got['per_s']:.0f} facts/s "
                      f"(load {os.getloadavg()[0]:.1f})", flush=True)
    print("\n| transport | nodes | publish → last node p50 | p99 | facts/s (one publisher) |")
    print("|---|---|---|---|---|")
    for (kind, nodes), runs in sorted(table.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        def span(key: str, runs: list[dict[str, float]] = runs) -> str:
            values = [x[key] for x in runs]
            return f"{min(values):.1f}–{max(values):.1f}" if len(values) > 1 \
                else f"{values[0]:.1f}"
        name = "LISTEN/NOTIFY" if kind == "pg" else "NATS JetStream"
        print(f"| {name} | {nodes} | {span('p50_ms')} ms | {span('p99_ms')} ms | "
              f"{span('per_s')} |")
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
