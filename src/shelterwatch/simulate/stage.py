"""Setting the night's stage: a fresh database with the real Kyiv registry, the people of the
night with their tokens, and the product's own processes (`shelterwatch serve`, `worker`).

Set-up goes through the services the CLI uses (every keyholder, patrol and door controller is a
fact in the log); only the night itself goes over HTTP.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path

import h3
import httpx
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from shelterwatch import db, migrate
from shelterwatch.areas import service as areas
from shelterwatch.auth import service as auth
from shelterwatch.clock import utcnow
from shelterwatch.coverage import grid as grids
from shelterwatch.coverage import model as coverage
from shelterwatch.coverage import population as populations
from shelterwatch.doors import service as doors
from shelterwatch.ingest import mapping as mappings
from shelterwatch.ingest import registry_csv
from shelterwatch.ingest.records import ShelterRecord
from shelterwatch.keyholders import service as keyholders
from shelterwatch.patrols import service as patrols
from shelterwatch.shelters import importer
from shelterwatch.shelters.models import Shelter as ShelterRow
from shelterwatch.simulate.city import DoorPlan, Shelter
from shelterwatch.simulate.nights import NightPlan

SOURCE = "kmda-2022"
FIRST_DISTRICT = "Desnianskyi district"  # where the clinic's door stayed locked that night
PG_DATABASE = "sw_simulate"


@dataclass(frozen=True, slots=True)
class Stage:
    url: str
    shelters: list[Shelter]
    districts: list[str]  # English names of the districts whose residents play
    cells: list[tuple[float, float, float]]  # lat, lon, people of the districts played
    population_label: str
    operator: str
    patrols: list[tuple[str, float, float]]  # token, where the unit starts


def database(pg_admin_url: str | None, workdir: Path) -> str:
    """A fresh database for the night: a SQLite file, or a new PostgreSQL database."""
    if not pg_admin_url:
        return f"sqlite:///{workdir / 'night.sqlite3'}"
    engine = create_engine(pg_admin_url.replace("postgresql://", "postgresql+psycopg://", 1),
                           isolation_level="AUTOCOMMIT")
    name = f"{PG_DATABASE}_{os.getpid()}"
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str, pg_admin_url: str | None) -> None:
    db.dispose(url)
    if not pg_admin_url:
        return
    engine = create_engine(pg_admin_url.replace("postgresql://", "postgresql+psycopg://", 1),
                           isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {make_url(url).database} WITH (FORCE)"))
    engine.dispose()


def _registry() -> list[ShelterRecord]:
    kyiv = Path(str(resources.files("shelterwatch.data.kyiv")))
    mapping = mappings.load(kyiv / "kmda-2022.toml")
    return [r for r in registry_csv.read(kyiv / "kyiv_shelters_2022-02-25.csv", mapping)
            if isinstance(r, ShelterRecord)]


def _choose(records: Sequence[ShelterRecord], grid: grids.Grid, limit: int | None,
            rng: random.Random) -> tuple[list[ShelterRecord], list[int]]:
    """Whole districts, the night's own first, until `limit` shelters (the last one sampled);
    returns the shelters and the districts whose residents play."""
    position = grid.position()
    by_district: dict[int, list[ShelterRecord]] = {}
    for record in records:
        row = position.get(h3.latlng_to_cell(record.lat, record.lon, grids.RESOLUTION))
        if row is not None:
            by_district.setdefault(int(grid.district[row]), []).append(record)
    order = sorted(by_district)
    rng.shuffle(order)
    first = next((i for i, d in enumerate(grid.districts) if d.name_en == FIRST_DISTRICT), None)
    if first in order:
        order.remove(first)
        order.insert(0, first)
    chosen: list[ShelterRecord] = []
    whole: list[int] = []  # districts with all their shelters: where residents live
    for d in order:
        if limit is not None and len(chosen) >= limit:
            break
        take = by_district[d]
        if limit is not None and len(chosen) + len(take) > limit:
            # A district with a sample of its shelters would strand its people far from any;
            # its shelters stay (its neighbours' residents use them), its people do not play.
            chosen += rng.sample(take, limit - len(chosen))
            return chosen, whole or [d]
        chosen += take
        whole.append(d)
    return chosen, whole


def prepare(url: str, plan: NightPlan, *, shelters: int | None, patrol_count: int | None,
            door_plans_for: Callable[[list[int]], dict[int, DoorPlan]], hooks_url: str,
            population_file: Path | None,
            rng: random.Random) -> tuple[Stage, dict[int, DoorPlan]]:
    """The registry, the keyholders (webhooks to `hooks_url`), patrols (None: one unit per
    hundred shelters), doors and tokens."""
    migrate.upgrade(url)
    now = utcnow()
    with db.transaction(url) as s:
        areas.load_bundled(s, now=now)
    with db.reading(url) as s:
        grid = coverage.grid_for(s, plan.area_id)
    chosen, played = _choose(_registry(), grid, shelters, rng)
    with db.transaction(url) as s:
        importer.import_records(s, chosen, source=SOURCE, now=now, actor="simulate")
    with db.reading(url) as s:
        rows = s.execute(select(ShelterRow.id, ShelterRow.lat, ShelterRow.lon)
                         .where(ShelterRow.source == SOURCE).order_by(ShelterRow.id)).all()
    city = [Shelter(r.id, r.lat, r.lon) for r in rows]
    plans = door_plans_for([s.id for s in city])
    people = populations.load(grid, population_file)
    cells = [(float(grid.lat[i]), float(grid.lon[i]), float(people.per_cell[i]))
             for i in range(len(grid)) if int(grid.district[i]) in played]
    with db.transaction(url) as s:
        for shelter in city:
            keyholders.create_keyholder(
                s, contact=keyholders.ContactIn(name=f"keyholder {shelter.id}",
                                                webhook=f"{hooks_url}/k/{shelter.id}"),
                shelter_ids=[shelter.id], now=now, actor="simulate")
            if plans[shelter.id].controller:
                doors.register(s, shelter_id=shelter.id, device_id=f"sim-{shelter.id}",
                               now=now, actor="simulate")
        _, operator = auth.create(s, role="operator", name="city desk", now=now,
                                  actor="simulate")
        units = []
        count = max(1, round(len(city) / 100)) if patrol_count is None else patrol_count
        for n, base in enumerate(rng.sample(city, min(count, len(city)))):
            token, plaintext = auth.create(s, role="patrol", name=f"unit {n + 1}", now=now,
                                           actor="simulate")
            patrols.create_unit(s, name=f"unit {n + 1}", token_id=token.id, lat=base.lat,
                                lon=base.lon, now=now, actor="simulate")
            units.append((plaintext, base.lat, base.lon))
    db.dispose(url)
    return Stage(url, city, [grid.districts[d].name_en for d in played], cells,
                 people.source.label, operator, units), plans


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Processes:
    """`shelterwatch serve` and `shelterwatch worker`, as a city runs them, on one fast clock."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env = env
        self.workdir = workdir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, timeout_s: float = 60.0) -> Processes:
        for args, log in ((["serve", "--port", str(self.port)], "server.log"),
                          (["worker"], "worker.log")):
            self.procs.append(subprocess.Popen(
                [sys.executable, "-m", "shelterwatch.cli.main", *args], env=self.env,
                stdout=(self.workdir / log).open("ab"), stderr=subprocess.STDOUT,
                start_new_session=True))
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in self.procs):
                raise RuntimeError(f"a process exited at start; see {self.workdir}/*.log")
            try:
                if httpx.get(f"{self.base}/v1/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the server did not answer within {timeout_s:.0f} s")

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)


def environment(url: str, *, speed: float, anchor: datetime, mqtt_url: str) -> dict[str, str]:
    """The processes' settings: the night's database and clock, the simulation as the proxy."""
    return {**os.environ, "DATABASE_URL": url,
            "SHELTERWATCH_CLOCK_SPEED": str(speed),
            "SHELTERWATCH_CLOCK_ANCHOR": anchor.isoformat(),
            "SHELTERWATCH_SECRET_KEY": "simulated-night-" + "x" * 16,
            "SHELTERWATCH_NOTIFY_CHANNELS": "webhook,door" if mqtt_url else "webhook",
            "SHELTERWATCH_MQTT_URL": mqtt_url,
            # Residents are many phones behind the simulation, which forwards for them like
            # the city's reverse proxy: every per-address limit applies as in the city.
            "SHELTERWATCH_TRUSTED_PROXIES": "127.0.0.1",
            "SHELTERWATCH_FOLLOW_INTERVAL_S": "0.05", "SHELTERWATCH_WORKER_TICK_S": "0.05",
            "SHELTERWATCH_LOG_HEAD_EVERY_S": "3600"}
