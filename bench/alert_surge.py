"""The first minutes of a national alert: door unlocks and check-ins fanned out, while residents
report and look up shelters.

Builds a fresh database with a national-size registry (65,000 shelters at seeded random points in
Ukraine's oblasts, as bench/import.py), 10,000 keyholders with webhooks to a local receiver (its
own process, raw asyncio) and 2,000 door controllers, then runs the product as users run it:
`shelterwatch serve` and `shelterwatch worker`, each its own process, Mosquitto for the doors.
Residents' load runs throughout (POST /v1/reports `locked` and GET /v1/nearest from client
threads). An alert then starts on every oblast at once, as a feed poll starts them, and the bench
prints, from the alert fact's time:

* door unlocks: last queued (goal ≤ 1 s) and last published on MQTT (goal ≤ 5 s);
* check-ins: last queued (goal ≤ 5 s) and last delivered to the receiver (goal ≤ 60 s);
* report and nearest latency p50/p99/max while the surge lasted (goals p99 ≤ 100 ms / 20 ms),
  beside a raw driver's durable INSERT at the reports' rate on the same disk or server meanwhile
  (`RawProbe`): what a bare write could get at that moment.

    .venv/bin/python bench/alert_surge.py [--shelters 65000] [--keyholders 10000]
        [--doors 2000] [--pg ADMIN_URL]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.server import free_port  # noqa: E402

from shelterwatch import db, migrate  # noqa: E402
from shelterwatch.alerts import service as alerts  # noqa: E402
from shelterwatch.areas import service as areas  # noqa: E402
from shelterwatch.areas.models import Area  # noqa: E402
from shelterwatch.clock import utcnow  # noqa: E402
from shelterwatch.doors.models import DoorController  # noqa: E402
from shelterwatch.ingest import mapping, registry_csv  # noqa: E402
from shelterwatch.keyholders.models import Keyholder, KeyholderShelter  # noqa: E402
from shelterwatch.outbox.models import Delivery  # noqa: E402
from shelterwatch.shelters import importer  # noqa: E402
from shelterwatch.shelters.models import Shelter  # noqa: E402
from shelterwatch.vocabulary import AlertType, Threat  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_import", ROOT / "bench" / "import.py")
assert _spec and _spec.loader
bench_import = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_import)

MQTT_URL = "mqtt://127.0.0.1:1883"
# One database per run: two runs on one server (a shared machine) must not drop each other's.
BENCH_DB = f"sw_bench_surge_{os.getpid()}"


def database(args: argparse.Namespace, tmp: Path) -> str:
    if not args.pg:
        return f"sqlite:///{tmp / 'surge.sqlite3'}"
    engine = create_engine(args.pg.replace("postgresql://", "postgresql+psycopg://", 1),
                           isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {BENCH_DB}"))
    engine.dispose()
    return make_url(args.pg).set(database=BENCH_DB).render_as_string(hide_password=False)


def prepare(url: str, args: argparse.Namespace, tmp: Path, receiver: str) -> None:
    """Registry, keyholders and doors; set-up only, so keyholders and doors go in as rows."""
    migrate.upgrade(url)
    with db.transaction(url) as session:
        areas.load_bundled(session, now=utcnow())
    registry = tmp / "registry.csv"
    bench_import.write_registry(registry, args.shelters)
    with db.transaction(url) as session:
        importer.import_records(session, registry_csv.read(registry, mapping.DEFAULT),
                                source="national", now=utcnow())
    rnd = random.Random(5)
    now = utcnow()
    with db.transaction(url) as session:
        ids = list(session.execute(select(Shelter.id).order_by(Shelter.id)).scalars())
        held = rnd.sample(ids, args.keyholders)
        conn = session.connection()
        conn.execute(insert(Keyholder), [
            {"id": n + 1, "name": f"Keyholder {n + 1}", "webhook": f"{receiver}/k/{n + 1}",
             "created_at": now, "active": True} for n in range(args.keyholders)])
        conn.execute(insert(KeyholderShelter), [
            {"keyholder_id": n + 1, "shelter_id": sid} for n, sid in enumerate(held)])
        conn.execute(insert(DoorController), [
            {"shelter_id": sid, "device_id": f"door-{sid}", "silent": False,
             "registered_at": now} for sid in rnd.sample(ids, args.doors)])
    db.dispose(url)


class DoorWatch:
    """Every door command published on the broker, with its arrival time."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, str]] = []  # (arrival, delivery key)
        self.ready = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"surge-{os.getpid()}")
        self.client.on_connect = lambda c, *a: (
            c.subscribe("shelterwatch/doors/+/command", qos=1), self.ready.set())
        self.client.on_message = self._arrived
        self.client.connect("127.0.0.1", 1883)
        self.client.loop_start()
        self.ready.wait(10)

    def _arrived(self, _client: object, _userdata: object, message: mqtt.MQTTMessage) -> None:
        key = json.loads(message.payload).get("id", "")
        if key.startswith("alert:"):  # an alert's unlock; a locked door's is an incident's
            self.seen.append((time.time(), key))

    def arrivals(self, keys: set[str], since: float) -> list[float]:
        """First arrival of each of these unlocks (the broker is shared: others' commands and
        QoS 1 repeats are left out)."""
        first: dict[str, float] = {}
        for at, key in list(self.seen):
            if key in keys and at >= since:
                first.setdefault(key, at)
        return sorted(first.values())

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


class Load:
    """Residents: reports and nearest look-ups at a steady rate, latency of each kept."""

    def __init__(self, base: str, shelter_ids: list[int], points: list[tuple[float, float]],
                 reports_per_s: float, nearest_per_s: float) -> None:
        self.base, self.ids, self.points = base, shelter_ids, points
        self.stop = threading.Event()
        self.samples: dict[str, list[tuple[float, float, bool]]] = {"report": [], "nearest": []}
        self.failures: list[str] = []
        self.threads = [threading.Thread(target=self._run, args=(k, r, n), daemon=True)
                        for k, r in (("report", reports_per_s), ("nearest", nearest_per_s))
                        for n in range(4)]

    def _run(self, kind: str, rate: float, n: int) -> None:
        rnd = random.Random(n * 31 + len(kind))
        every = 4 / rate
        with httpx.Client(base_url=self.base, timeout=30) as client:
            next_at = time.monotonic()
            while not self.stop.is_set():
                t0 = time.time()
                try:
                    if kind == "report":
                        r = client.post("/v1/reports", json={
                            "shelter_id": rnd.choice(self.ids), "kind": "locked",
                            "device_id": f"bench-{n}-{rnd.random()}"})
                        ok = r.status_code == 201
                        if not ok:
                            self.failures.append(f"{r.status_code} {r.text[:160]}")
                    else:
                        lat, lon = rnd.choice(self.points)
                        r = client.get("/v1/nearest", params={"lat": lat, "lon": lon})
                        ok = r.status_code == 200
                except httpx.HTTPError as exc:
                    ok = False
                    self.failures.append(repr(exc)[:160])
                self.samples[kind].append((t0, time.time() - t0, ok))
                next_at += every
                self.stop.wait(max(0.0, next_at - time.monotonic()))

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def halt(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(60)


class RawProbe:
    """The baseline for the report latency: one raw driver INSERT committed durably at the
    reports' rate, on the same disk (SQLite: a file of its own beside the product's, WAL and
    synchronous=FULL) or the same server (PostgreSQL: a table of its own), while the surge
    runs. Its tail is what the disk or the server gives a bare write at that moment, so a
    report p99 is read beside it."""

    def __init__(self, url: str, workdir: Path, per_s: float) -> None:
        self.url, self.every = url, 1 / per_s
        self.path = workdir / "raw-probe.sqlite3"
        self.samples: list[tuple[float, float]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _connect(self) -> tuple[Any, str]:
        if db.is_sqlite(self.url):
            conn = sqlite3.connect(self.path, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("CREATE TABLE IF NOT EXISTS probe (id INTEGER PRIMARY KEY, body TEXT)")
            return conn, "INSERT INTO probe (body) VALUES (?)"
        import psycopg

        conn = psycopg.connect(self.url.replace("postgresql+psycopg://", "postgresql://", 1),
                               autocommit=True)
        conn.execute("CREATE TABLE IF NOT EXISTS bench_raw_probe (id bigserial PRIMARY KEY, "
                     "body text)")
        return conn, "INSERT INTO bench_raw_probe (body) VALUES (%s)"

    def _run(self) -> None:
        conn, sql = self._connect()
        body = "x" * 200  # about a report's observation row
        next_at = time.monotonic()
        while not self.stop.is_set():
            t0 = time.time()
            conn.execute(sql, (body,))  # autocommit: one durable transaction each
            self.samples.append((t0, time.time() - t0))
            next_at += self.every
            self.stop.wait(max(0.0, next_at - time.monotonic()))
        conn.close()

    def start(self) -> None:
        self.thread.start()

    def halt(self) -> None:
        self.stop.set()
        self.thread.join(30)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "shelterwatch.cli.main", *args], env=env,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shelters", type=int, default=65_000)
    parser.add_argument("--keyholders", type=int, default=10_000)
    parser.add_argument("--doors", type=int, default=2_000)
    parser.add_argument("--reports-per-s", type=float, default=10.0)
    parser.add_argument("--nearest-per-s", type=float, default=40.0)
    parser.add_argument("--pg", metavar="ADMIN_URL")
    parser.add_argument("--timeout", type=float, default=240.0)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sw-surge-"))
    url = database(args, tmp)
    rport, port = free_port(), free_port()
    receiver_out = tmp / "arrivals.json"
    receiver = subprocess.Popen([sys.executable, str(ROOT / "bench" / "receiver.py"),
                                 str(rport), str(receiver_out)])
    t_setup = time.monotonic()
    prepare(url, args, tmp, f"http://127.0.0.1:{rport}")
    print(f"set-up: {args.shelters} shelters, {args.keyholders} keyholders, {args.doors} doors "
          f"on {make_url(url).get_backend_name()} in {time.monotonic() - t_setup:.0f} s; "
          f"load average {os.getloadavg()[0]:.1f}")
    env = {**os.environ, "DATABASE_URL": url, "SHELTERWATCH_MQTT_URL": MQTT_URL,
           "SHELTERWATCH_NOTIFY_CHANNELS": "webhook,door",
           # Every simulated resident comes from 127.0.0.1: lift the per-network limits that
           # would otherwise take the bench's many residents for one person.
           "SHELTERWATCH_REPORTS_PER_ADDRESS_PER_MINUTE": "1000000",
           "SHELTERWATCH_SHELTERS_PER_NETWORK_PER_HOUR": "1000000",
           "SHELTERWATCH_SHELTERS_PER_DEVICE_PER_HOUR": "1000000",
           "SHELTERWATCH_SHELTERS_PER_NETWORK_ISSUED_PER_HOUR": "1000000",
           "SHELTERWATCH_REPORTS_PER_DEVICE_PER_HOUR": "1000000",
           "SHELTERWATCH_FOLLOW_INTERVAL_S": "0.25"}
    doors = DoorWatch()
    server = spawn(["serve", "--port", str(port)], env, tmp / "server.log")
    worker = spawn(["worker", "-v"], env, tmp / "worker.log")  # -v: how long each step took
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/v1/areas", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    # The bench's own reads: a connection per look, nothing pooled beside the product's.
    reads = (db.make_engine(url, write=False, poolclass=NullPool) if db.is_sqlite(url) else
             create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1),
                           poolclass=NullPool))
    with Session(reads) as session:
        shelters = session.execute(select(Shelter.id, Shelter.lat, Shelter.lon)).all()
        # Every top-level area (the oblasts, Kyiv city, Sevastopol): a national alert.
        oblasts = list(session.execute(select(Area.id).where(Area.parent_id.is_(None)))
                       .scalars())
    load = Load(base, [s.id for s in shelters][:5000], [(s.lat, s.lon) for s in shelters][:5000],
                args.reports_per_s, args.nearest_per_s)
    load.start()
    probe = RawProbe(url, tmp, args.reports_per_s)
    probe.start()
    time.sleep(8)  # warm: the worker's follower, the server's index
    with db.transaction(url) as session:
        t_alert_dt = utcnow()
        for area_id in oblasts:
            alerts.start(session, area_id=area_id, type=AlertType.AIR_RAID,
                         threat=Threat.BALLISTIC, started_at=t_alert_dt, source="bench",
                         actor="bench", now=t_alert_dt)
    t_alert = t_alert_dt.timestamp()
    cpu_at_alert = {name: cpu_s(proc.pid)
                    for name, proc in (("server", server), ("worker", worker))}
    expected_doors = args.doors
    t_end = time.monotonic() + args.timeout
    while time.monotonic() < t_end:
        with Session(reads) as session:
            sent = session.execute(select(func.count()).select_from(Delivery).where(
                Delivery.step == "check_in", Delivery.state == "sent")).scalar_one()
        queued = session.execute(select(func.count()).select_from(Delivery).where(
                Delivery.step == "check_in")).scalar_one()
        if queued and sent >= queued and len(doors.arrivals(door_keys(reads), t_alert)) >= \
                expected_doors:
            break
        time.sleep(0.5)
    time.sleep(1)
    cpu_used = {name: cpu_s(proc.pid) - cpu_at_alert[name]
                for name, proc in (("server", server), ("worker", worker))}
    load.halt()
    probe.halt()
    for proc in (worker, server):
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:  # a starved machine: the figures still count
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)
    receiver.terminate()
    receiver.wait(30)
    doors.stop()
    arrivals = [t for t, key in json.loads(receiver_out.read_text()) if ":check_in:" in key]
    with Session(reads) as session:
        rows = session.execute(select(Delivery.channel, Delivery.step,
                                      func.max(Delivery.created_at), func.count())
                               .where(Delivery.subject.like("alert:%"))
                               .group_by(Delivery.channel, Delivery.step)).all()
    queued = {(c, s): (as_ts(m) - t_alert, n) for c, s, m, n in rows}
    unlocked = doors.arrivals(door_keys(reads), t_alert)
    t_done = max([*arrivals, *unlocked, t_alert])
    print(f"alert on {len(oblasts)} oblasts at {t_alert_dt:%H:%M:%S.%f}; "
          f"load average now {os.getloadavg()[0]:.1f}")
    door_q, door_n = queued.get(("door", "unlock"), (float("nan"), 0))
    hook_q, hook_n = queued.get(("webhook", "check_in"), (float("nan"), 0))
    print(f"door unlocks: {door_n} queued, last {door_q:.2f} s after the alert (goal ≤ 1 s); "
          f"{len(unlocked)} published, last "
          f"{max(unlocked, default=float('nan')) - t_alert:.2f} s (goal ≤ 5 s)")
    print(f"check-ins: {hook_n} queued, last {hook_q:.2f} s (goal ≤ 5 s); {len(arrivals)} "
          f"delivered, half by {pct([a - t_alert for a in arrivals], 0.5):.1f} s, last "
          f"{max(arrivals, default=float('nan')) - t_alert:.1f} s (goal ≤ 60 s)")
    for kind, goal in (("report", 100), ("nearest", 20)):
        during = [(d, ok) for t0, d, ok in load.samples[kind] if t_alert <= t0 <= t_done]
        lat = [d * 1000 for d, _ in during]
        failed = sum(1 for _, ok in during if not ok)
        print(f"{kind}: {len(during)} during the surge, p50 {pct(lat, 0.5):.1f} ms, "
              f"p99 {pct(lat, 0.99):.1f} ms, max {max(lat, default=float('nan')):.1f} ms, "
              f"{failed} failed (goal p99 ≤ {goal} ms)")
    raw = [d * 1000 for t0, d in probe.samples if t_alert <= t0 <= t_done]
    print(f"baseline, a raw durable INSERT at the reports' rate on the same "
          f"{'disk' if db.is_sqlite(url) else 'server'}: {len(raw)} during the surge, "
          f"p50 {pct(raw, 0.5):.1f} ms, p99 {pct(raw, 0.99):.1f} ms, "
          f"max {max(raw, default=float('nan')):.1f} ms")
    print(f"CPU from the alert to the end: server {cpu_used['server']:.1f} s, "
          f"worker {cpu_used['worker']:.1f} s")
    if load.failures:
        print(f"first failure: {load.failures[0]}")
    print(f"logs and database under {tmp}" + (f" and {BENCH_DB}" if args.pg else ""))


def door_keys(reads: Engine) -> set[str]:
    """The delivery keys of this run's alert unlocks, as the door channel publishes them."""
    with Session(reads) as session:
        return {f"{s}:{st}:{r}" for s, st, r in session.execute(
            select(Delivery.subject, Delivery.step, Delivery.recipient).where(
                Delivery.channel == "door", Delivery.subject.like("alert:%")))}


def cpu_s(pid: int) -> float:
    """CPU seconds (user and system) a process has used so far: less load-dependent than
    latency on a shared machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def as_ts(value: datetime) -> float:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


if __name__ == "__main__":
    main()
