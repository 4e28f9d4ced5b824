"""`/v1/stream` with thousands of subscribers on one process, beside a bare Starlette broadcast.

The systems (`--systems`, each round runs them in this order, interleaved):
- serve = a single node as users run it (`shelterwatch serve`, SQLite, the Kyiv registry, an
  air-raid alert on): `/v1/stream` on the API's port, handed to the stream server's protocol;
- stream = a city's deployment: `shelterwatch stream` beside that API node; a resident's report
  goes to the API, the stream server hears it through the log; both processes are probed;
- route = the ASGI route alone (`uvicorn shelterwatch.asgi:app`), as before the stream server;
- bare = `bench/bare_broadcast_app.py`, its own minimal app under the same uvicorn options:
  `POST /publish` of the product's own status event (captured in this run), put in every
  client's queue.
A resident's `POST /v1/reports` (locked) is the product's message, and its status event is what
every subscriber must hear. Each round, per system:

  1. open N connections from client processes (raw asyncio sockets, one loopback source address
     per process), while probes ask `/v1/health/live` (bare: `/health`) every 20 ms: the API
     node's, and for `stream` also the stream server's own;
  2. M spaced messages: message → last subscriber latency (p99 over them);
  3. a burst of M messages back to back: subscriber deliveries per second;
  4. all N connections drop at once (RST) while the probes keep asking.

Printed per round and as ranges: latency p99, rate (and each one's fraction of bare), the API
probe's worst latency while opening and while dropping (and the stream server's own probe's),
CPU seconds of the process that serves the streams to open and to drop, and RSS per subscriber
(its RSS delta over N on a fresh process, i.e. round 1; later rounds reuse freed memory).
Goals (issue 15): at N = 10,000, p99 <= 1 s, rate >= 0.6 x bare, no stall > 100 ms, <= 30 KB
per subscriber.

    .venv/bin/python bench/stream.py [--subscribers 10000] [--clients 4] [--rounds 3]
                                     [--messages 20] [--gap 0.3] [--systems serve,stream,bare]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.stream_subscribers import MARK  # noqa: E402
from tests.support.server import free_port  # noqa: E402

SUBSCRIBERS = ROOT / "bench" / "stream_subscribers.py"

UNLIMITED = {f"SHELTERWATCH_{name.upper()}": "100000000" for name in (
    "reports_per_address_per_minute", "reports_per_device_per_hour",
    "shelters_per_network_per_hour", "shelters_per_device_per_hour",
    "shelters_per_network_issued_per_hour", "stream_connections_per_address")}


# ---------- the servers ----------

class Server:
    def __init__(self, name: str, args: list[str], env: dict[str, str], cwd: Path,
                 ready: str) -> None:
        self.name, self.port = name, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log = (cwd / f"{name}.log").open("ab")
        self.proc = subprocess.Popen([*args, "--port", str(self.port)], env=env, cwd=cwd,
                                     stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{name} exited: {(cwd / f'{name}.log').read_text()[-2000:]}")
            try:
                if httpx.get(self.url + ready, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError(f"{name} did not start")

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Probe(threading.Thread):
    """Asks a cheap endpoint every 20 ms; the worst answer per phase is the stall."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.samples, self.stop = url, list[tuple[float, float]](), threading.Event()
        self.errors = 0

    def run(self) -> None:
        http = httpx.Client(timeout=30)
        while not self.stop.is_set():
            t0 = time.monotonic()
            try:
                http.get(self.url).raise_for_status()
            except httpx.HTTPError:  # counted, and its wait still counts as a stall
                self.errors += 1
                http.close()
                http = httpx.Client(timeout=30)
            self.samples.append((t0, time.monotonic() - t0))
            time.sleep(0.02)
        http.close()

    def worst(self, start: float, end: float) -> float:
        return max((s for t, s in self.samples if start <= t <= end), default=float("nan"))


# ---------- one round on one system ----------

@dataclass
class System:
    name: str
    server: Server  # the one that serves the streams (its CPU and RSS are counted)
    stream_path: str
    probes: list[str]  # the other requests that must not stall (URLs), the API's first
    send: Any  # (marker id) -> None: posts one message that carries it


def ask(clients: list[subprocess.Popen[str]], line: str) -> list[dict[str, Any]]:
    for c in clients:
        assert c.stdin is not None
        c.stdin.write(line + "\n")
        c.stdin.flush()
    out = []
    for c in clients:
        assert c.stdout is not None
        out.append(json.loads(c.stdout.readline()))
    return out


def arrivals(clients: list[subprocess.Popen[str]], marks: list[int], n: int,
             timeout: float) -> dict[int, float]:
    """Last arrival time of each mark once all n subscribers have it (or the timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        merged: dict[int, list[float]] = {}
        for part in ask(clients, "arrivals"):
            for key, (count, last) in part.items():
                got = merged.setdefault(int(key), [0, 0.0])
                got[0] += count
                got[1] = max(got[1], last)
        done = all(merged.get(m, [0])[0] >= n for m in marks)
        if done or time.monotonic() > deadline:
            return {m: merged[m][1] for m in marks if merged.get(m, [0])[0] >= n}
        time.sleep(0.1)


def one_round(system: System, args: argparse.Namespace, marks: list[int],
              sources: list[str]) -> dict[str, float]:
    server, n = system.server, args.subscribers
    per = [n // args.clients + (1 if i < n % args.clients else 0) for i in range(args.clients)]
    clients = [subprocess.Popen(
        [sys.executable, str(SUBSCRIBERS), "127.0.0.1", str(server.port), system.stream_path,
         str(k), src], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for k, src in zip(per, sources, strict=True)]
    probes = [Probe(url) for url in system.probes]
    for probe in probes:
        probe.start()
    time.sleep(1.0)
    rss0, cpu0, t_open = server.rss_kb(), server.cpu_s(), time.monotonic()
    opened = ask(clients, "open")
    t_opened, cpu1, rss1 = time.monotonic(), server.cpu_s(), server.rss_kb()
    assert sum(o["opened"] for o in opened) == n, opened
    time.sleep(1.0)
    spaced, burst = marks[:args.messages], marks[args.messages:2 * args.messages]
    latencies = []
    for mark in spaced:
        t0 = time.monotonic()
        system.send(mark)
        got = arrivals(clients, [mark], n, 10)
        latencies.append(got[mark] - t0 if mark in got else float("inf"))
        time.sleep(args.gap)
    t0, cpu_burst = time.monotonic(), server.cpu_s()
    for mark in burst:
        system.send(mark)
    got = arrivals(clients, burst, n, 60)
    span = max(got.values(), default=t0) - t0 if len(got) == len(burst) else float("inf")
    # Server CPU per delivery: the figure the machine's load disturbs least.
    us_per_delivery = 1e6 * (server.cpu_s() - cpu_burst) / (n * len(burst))
    time.sleep(0.5)
    cpu2, t_drop = server.cpu_s(), time.monotonic()
    ask(clients, "drop")
    for c in clients:
        c.wait(30)
    time.sleep(3.0)  # the probe keeps asking while the server lets them go
    t_end, cpu3 = time.monotonic(), server.cpu_s()
    for probe in probes:
        probe.stop.set()
        probe.join()
    probe, own = probes[0], probes[-1]  # the API's probe; the stream server's own (or the same)
    return {
        "p99_s": sorted(latencies)[min(len(latencies) - 1, int(0.99 * len(latencies)))],
        "rate": n * len(burst) / span if span > 0 else float("nan"),
        "us_per_delivery": us_per_delivery,
        "open_s": t_opened - t_open, "open_cpu_s": cpu1 - cpu0, "drop_cpu_s": cpu3 - cpu2,
        "stall_open_ms": 1000 * probe.worst(t_open, t_opened),
        "stall_drop_ms": 1000 * probe.worst(t_drop, t_end),
        "idle_ms": 1000 * statistics.median(  # nan when the machine left it no time to ask
            [s for t, s in probe.samples if t < t_open] or [float("nan")]),
        "own_stall_open_ms": 1000 * own.worst(t_open, t_opened),
        "own_stall_drop_ms": 1000 * own.worst(t_drop, t_end),
        "kb_per_sub": (rss1 - rss0) / n,
        "probe_errors": sum(p.errors for p in probes),
    }


# ---------- set-up and the run ----------

def prepare(url: str) -> list[tuple[int, float, float]]:
    from shelterwatch import db, migrate
    from shelterwatch.alerts import service as alerts
    from shelterwatch.areas import service as areas
    from shelterwatch.clock import utcnow
    from shelterwatch.ingest import mapping, registry_csv
    from shelterwatch.shelters import importer
    from shelterwatch.shelters.models import Shelter
    from shelterwatch.vocabulary import AlertType, Threat

    kyiv = Path(str(resources.files("shelterwatch.data.kyiv")))
    migrate.upgrade(url)
    with db.transaction(url) as session:
        areas.load_bundled(session, now=utcnow())
        importer.import_records(session, registry_csv.read(
            kyiv / "kyiv_shelters_2022-02-25.csv", mapping.load(kyiv / "kmda-2022.toml")),
            source="kmda-2022", now=utcnow())
        now = utcnow()
        alerts.start(session, area_id="31", type=AlertType.AIR_RAID, threat=Threat.BALLISTIC,
                     started_at=now, source="bench", actor="bench", now=now)
    with db.reading(url) as session:
        from sqlalchemy import select
        return [tuple(r) for r in session.execute(  # type: ignore[misc]
            select(Shelter.id, Shelter.lat, Shelter.lon).order_by(Shelter.id)).all()]


def capture_status_event(url: str, send: Any, mark: int) -> bytes:
    """The product's own status event for one report: the bare broadcast sends these bytes."""
    with httpx.stream("GET", url + "/v1/stream", timeout=30) as response:
        lines = response.iter_lines()
        next(lines)
        send(mark)
        event: list[str] = []
        for line in lines:
            if line:
                event.append(line)
            elif event and event[1:2] == ["event: status"]:
                return ("\n".join(event) + "\n\n").encode()
            else:
                event = []
    raise RuntimeError("no status event")


def summary(label: str, rows: list[dict[str, float]], key: str, fmt: str) -> str:
    values = [r[key] for r in rows]
    return f"{label} {fmt.format(min(values))}–{fmt.format(max(values))}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=4, help="client processes")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--messages", type=int, default=20, help="spaced, then as many in burst")
    parser.add_argument("--gap", type=float, default=0.3, help="seconds between spaced messages")
    parser.add_argument("--systems", default="serve,stream,bare",
                        help="of serve, stream, route, bare (each round runs them in order)")
    args = parser.parse_args()
    chosen = args.systems.split(",")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # inherited by servers and clients
    if hard < args.subscribers + 1000:
        sys.exit(f"the open-file limit ({hard}) is below {args.subscribers} subscribers")
    tmp = Path(tempfile.mkdtemp(prefix="sw-stream-"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    shelters = prepare(url)
    need = 1 + args.rounds * 2 * args.messages
    if len(shelters) < need:
        sys.exit(f"{len(shelters)} shelters, {need} reports needed: fewer rounds or messages")
    env = {**os.environ, **UNLIMITED, "DATABASE_URL": url,
           "SHELTERWATCH_SECRET_KEY": secrets.token_hex(16),
           "PYTHONPATH": os.pathsep.join([str(ROOT / "bench"), str(ROOT / "src")])}
    servers: dict[str, Server] = {}
    product = servers["serve"] = Server(
        "serve", [sys.executable, "-m", "shelterwatch.cli.main", "serve"], env, tmp,
        "/v1/health/live")
    if "stream" in chosen:
        servers["stream"] = Server("stream", [sys.executable, "-m", "shelterwatch.cli.main",
                                              "stream"], env, tmp, "/v1/health/live")
    if "route" in chosen:  # the ASGI route alone, as before the stream server
        servers["route"] = Server("route", [
            sys.executable, "-m", "uvicorn", "shelterwatch.asgi:app", "--host", "127.0.0.1",
            "--log-level", "warning", "--no-access-log"], env, tmp, "/v1/health/live")
    if "bare" in chosen:
        servers["bare"] = Server("bare", [
            sys.executable, "-m", "uvicorn", "bare_broadcast_app:app", "--host", "127.0.0.1",
            "--log-level", "info", "--no-access-log"], env, tmp, "/health")
    by_id = {s[0]: s for s in shelters}
    http = httpx.Client(timeout=30)

    def report(mark: int) -> None:
        _, lat, lon = by_id[mark]
        r = http.post(product.url + "/v1/reports", json={
            "shelter_id": mark, "kind": "locked", "device_id": f"bench-{mark:06d}",
            "lat": lat, "lon": lon})
        assert r.status_code == 201, r.text

    ids = [s[0] for s in shelters]
    template = capture_status_event(product.url, report, ids.pop(0))
    found = MARK.search(template)
    assert found is not None

    def publish(mark: int) -> None:
        body = template[:found.start(1)] + str(mark).encode() + template[found.end(1):]
        http.post(servers["bare"].url + "/publish", content=body).raise_for_status()

    live = "/v1/health/live"

    def route_report(mark: int) -> None:  # the route's own process hears its own commit first
        _, lat, lon = by_id[mark]
        r = http.post(servers["route"].url + "/v1/reports", json={
            "shelter_id": mark, "kind": "locked", "device_id": f"bench-{mark:06d}",
            "lat": lat, "lon": lon})
        assert r.status_code == 201, r.text

    make = {
        "serve": lambda: System("serve", product, "/v1/stream", [product.url + live], report),
        "stream": lambda: System("stream", servers["stream"], "/v1/stream",
                                 [product.url + live, servers["stream"].url + live], report),
        "route": lambda: System("route", servers["route"], "/v1/stream",
                                [servers["route"].url + live], route_report),
        "bare": lambda: System("bare", servers["bare"], "/stream",
                               [servers["bare"].url + "/health"], publish),
    }
    systems = [make[name]() for name in chosen]
    print(f"{args.subscribers} subscribers from {args.clients} processes; event "
          f"{len(template)} B; load average {os.getloadavg()[0]:.2f}", flush=True)
    results: dict[str, list[dict[str, float]]] = {s.name: [] for s in systems}
    try:
        for r in range(args.rounds):
            for k, system in enumerate(systems):
                marks = [ids.pop(0) for _ in range(2 * args.messages)]
                subnet = 10 + len(systems) * r + k
                sources = [f"127.0.{subnet}.{i + 1}" for i in range(args.clients)]
                row = one_round(system, args, marks, sources)
                results[system.name].append(row)
                print(f"round {r + 1} {system.name:<12} p99 {row['p99_s']:.3f} s  "
                      f"rate {row['rate']:9.0f}/s ({row['us_per_delivery']:.0f} µs cpu each)  "
                      f"open {row['open_s']:.1f} s "
                      f"(cpu {row['open_cpu_s']:.1f} s)  drop cpu {row['drop_cpu_s']:.1f} s  "
                      f"stall open {row['stall_open_ms']:.0f} ms / drop "
                      f"{row['stall_drop_ms']:.0f} ms (idle {row['idle_ms']:.1f} ms; own "
                      f"{row['own_stall_open_ms']:.0f} / {row['own_stall_drop_ms']:.0f} ms)  "
                      f"{row['kb_per_sub']:.1f} KB/sub  probe errors {row['probe_errors']}  "
                      f"load {os.getloadavg()[0]:.2f}",
                      flush=True)
    finally:
        for server in servers.values():
            server.stop()
    print(f"\nsummary over {args.rounds} rounds at {args.subscribers} subscribers "
          f"(load average {os.getloadavg()[0]:.2f}):")
    for name, rows in results.items():
        print(f"  {name:<12} " + "; ".join([
            summary("p99", rows, "p99_s", "{:.2f}") + " s",
            summary("rate", rows, "rate", "{:.0f}") + "/s",
            summary("cpu per delivery", rows, "us_per_delivery", "{:.0f}") + " µs",
            summary("stall open", rows, "stall_open_ms", "{:.0f}") + " ms",
            summary("stall drop", rows, "stall_drop_ms", "{:.0f}") + " ms",
            summary("own probe open", rows, "own_stall_open_ms", "{:.0f}") + " ms",
            summary("own probe drop", rows, "own_stall_drop_ms", "{:.0f}") + " ms",
            summary("cpu open", rows, "open_cpu_s", "{:.1f}") + " s",
            summary("cpu drop", rows, "drop_cpu_s", "{:.1f}") + " s",
            f"{rows[0]['kb_per_sub']:.1f} KB/subscriber (fresh process)"]))
    for name, rows in results.items():
        if name != "bare" and "bare" in results:
            ratios = [x["rate"] / y["rate"] for x, y in zip(rows, results["bare"], strict=True)]
            print(f"  rate {name} / bare: {min(ratios):.2f}–{max(ratios):.2f} (goal >= 0.6)")


if __name__ == "__main__":
    main()
