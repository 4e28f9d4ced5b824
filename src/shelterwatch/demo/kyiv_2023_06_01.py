"""The night of 1 June 2023 in Kyiv, replayed on the bundled registry in accelerated time.

The city alert ran 23:49:31–01:03:05 UTC (alerts.in.ua history). Debris fell about four minutes
after the warning while people knocked on the locked door of the clinic at вул. Курчатова, 18-А
(ЦПМСД № 4, Desnianskyi district); the school shelter next door was open. Here the clinic's
keyholder does not answer, the school's keyholder checks in, residents report the clinic locked two
minutes in and one patrol unit is on duty. Everything runs for real in this process — the API (over
ASGI), the worker, the outbox, MQTT for the door controller — on one clock that jumps over the
minutes in which nobody acts, so the night plays in seconds and every time stamp is that night's.
"""

from __future__ import annotations

import heapq
import itertools
import os
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import func, select

with warnings.catch_warnings():  # the in-process client is the point here, not a test
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from shelterwatch import clock, db, migrate
from shelterwatch.app import create_app
from shelterwatch.areas import service as areas
from shelterwatch.auth import service as auth
from shelterwatch.config import Settings, get_settings
from shelterwatch.demo.actors import Door, Inbox
from shelterwatch.doors import service as doors
from shelterwatch.escalation.models import Timer
from shelterwatch.ingest import mapping as mappings
from shelterwatch.ingest import registry_csv
from shelterwatch.keyholders import service as keyholders
from shelterwatch.log import service as log
from shelterwatch.outbox.models import Delivery
from shelterwatch.outbox.queue import QueueState
from shelterwatch.patrols import service as patrols
from shelterwatch.shelters import importer
from shelterwatch.shelters.models import Shelter
from shelterwatch.vocabulary import FactKind
from shelterwatch.worker.runner import Worker

ALERT_START = datetime(2023, 5, 31, 23, 49, 31, tzinfo=UTC)
ALERT_END = datetime(2023, 6, 1, 1, 3, 5, tzinfo=UTC)
CLINIC = "вул. Курчатова, 18-А"  # ЦПМСД № 4 (a clinic), Desnianskyi district
SCHOOL = "вул. Курчатова, 18/1"  # school № 152, about 90 m away
PATROL_AT = (50.4855, 30.6205)  # on duty near просп. Лісовий, about 1.3 km from the clinic
KEYHOLDER_TAP_S = 45.0  # the school's keyholder opens up and taps the link
REPORT_AT_S = 120.0  # residents at the clinic door report it locked
PATROL_POLL_S = 10.0  # the patrol's phone asks for tasks this often
FORCE_DOOR_S = 60.0  # rescue tools at the door


@dataclass(order=True)
class Event:
    at: datetime
    n: int
    action: Callable[[], None] = field(compare=False)


class Night:
    """The scenario's actors and the clock that skips idle minutes."""

    def __init__(self, settings: Settings, client: TestClient, worker: Worker,
                 door_controller: bool) -> None:
        self.settings = settings
        self.url = settings.database_url
        self.client = client
        self.worker = worker
        self.door_controller = door_controller
        self.queue: list[Event] = []
        self.counter = itertools.count()
        self.lock = threading.Lock()
        self.timeline: list[dict[str, str]] = []
        self.figures: dict[str, float | None] = {
            "steered_after_report_s": None, "door_open_after_alert_s": None}
        self.door_open_at: datetime | None = None
        self.door: Door | None = None

    # -- the clock ------------------------------------------------------------------------
    def at(self, offset_s: float, action: Callable[[], None]) -> None:
        with self.lock:
            heapq.heappush(self.queue, Event(ALERT_START + timedelta(seconds=offset_s),
                                             next(self.counter), action))

    def after(self, seconds: float, action: Callable[[], None]) -> None:
        with self.lock:
            heapq.heappush(self.queue, Event(clock.utcnow() + timedelta(seconds=seconds),
                                             next(self.counter), action))

    def note(self, event: str) -> None:
        now = clock.utcnow()
        offset = (now - ALERT_START).total_seconds()
        self.timeline.append({"at": now.isoformat().replace("+00:00", "Z"),
                              "offset_s": f"{offset:.1f}", "event": event})

    def system_due(self) -> datetime | None:
        """The next moment the worker has work: a timer or a delivery coming due."""
        with db.transaction(self.url) as s:
            timer = s.scalar(select(func.min(Timer.due_at))
                             .where(Timer.state == QueueState.PENDING))
            mail = s.scalar(select(func.min(Delivery.next_attempt_at))
                            .where(Delivery.state == QueueState.PENDING))
        due = [clock.as_utc(d) for d in (timer, mail) if d is not None]
        return min(due) if due else None

    def busy(self) -> bool:
        now = clock.utcnow()
        due = self.system_due()
        with db.transaction(self.url) as s:
            claimed = s.scalar(select(func.count()).select_from(Timer)
                               .where(Timer.state == QueueState.CLAIMED))
            sending = s.scalar(select(func.count()).select_from(Delivery)
                               .where(Delivery.state == QueueState.CLAIMED))
            last = log.last_seq(s)
        follower = self.worker.follower
        behind = follower is not None and follower.applied_seq < last
        door_busy = self.door is not None and self.door.busy(self.url)
        return bool(claimed or sending or behind or door_busy or (due and due <= now))

    def settle(self, timeout_s: float = 10.0) -> None:
        """Let real time pass until the system has done everything due now."""
        deadline = time.monotonic() + timeout_s
        quiet = 0
        while time.monotonic() < deadline and quiet < 3:
            time.sleep(0.02)
            quiet = 0 if self.busy() else quiet + 1

    def run(self, until: datetime) -> None:
        while True:
            self.settle()
            with self.lock:
                if not self.queue:
                    return
                nxt = self.queue[0].at
            due = self.system_due()
            target = min(nxt, due) if due else nxt
            if target > until:
                return
            if target > clock.utcnow():
                clock.set_replay_time(target)  # nobody acts until then: skip ahead
            with self.lock:
                ready = self.queue and self.queue[0].at <= clock.utcnow()
                event = heapq.heappop(self.queue) if ready else None
            if event is not None:
                event.action()

    def door_opened(self, event: str) -> None:
        """The clinic door is open: the figure the whole system exists for."""
        if self.door_open_at is None:
            self.door_open_at = clock.utcnow()
            self.figures["door_open_after_alert_s"] = round(
                (self.door_open_at - ALERT_START).total_seconds(), 1)
        self.note(event)

    # -- the actors -----------------------------------------------------------------------
    def api(self, method: str, path: str, token: str | None = None, **body: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.client.request(method, path, headers=headers,
                                       json=body if method == "POST" else None)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path} answered {response.status_code}: "
                               f"{response.text[:300]}")
        return response.json() if "json" in response.headers.get("content-type", "") else None


def _prepare(url: str, *, door_controller: bool, hooks_url: str) -> dict[str, Any]:
    migrate.upgrade(url)
    now = ALERT_START - timedelta(days=1)
    with db.transaction(url) as s:
        areas.load_bundled(s, now=now)
    kyiv = Path(str(resources.files("shelterwatch.data.kyiv")))
    mapping = mappings.load(kyiv / "kmda-2022.toml")
    with db.transaction(url) as s:
        importer.import_records(s, registry_csv.read(kyiv / "kyiv_shelters_2022-02-25.csv",
                                                     mapping), source="kmda-2022", now=now)
    with db.transaction(url) as s:
        def find(address: str) -> Shelter:
            row = s.execute(select(Shelter).where(Shelter.address.contains(address))
                            .order_by(Shelter.id)).scalars().first()
            if row is None:
                raise RuntimeError(f"the bundled registry has no shelter at {address}")
            return row

        clinic, school = find(CLINIC), find(SCHOOL)
        for name, shelter in (("clinic", clinic), ("school", school)):
            keyholders.create_keyholder(
                s, contact=keyholders.ContactIn(name=f"{name} keyholder",
                                                webhook=f"{hooks_url}/{name}"),
                shelter_ids=[shelter.id], now=now, actor="demo")
        _, operator = auth.create(s, role="operator", name="city desk", now=now)
        token, patrol = auth.create(s, role="patrol", name="Desnianskyi 1", now=now)
        patrols.create_unit(s, name="Desnianskyi 1", token_id=token.id, lat=PATROL_AT[0],
                            lon=PATROL_AT[1], now=now, actor="demo")
        if door_controller:
            doors.register(s, shelter_id=clinic.id, device_id="kd-kurchatova-18a", now=now,
                           actor="demo")
        return {"clinic": (clinic.id, clinic.lat, clinic.lon, clinic.address),
                "school": (school.id, school.address), "operator": operator, "patrol": patrol}


def replay(*, door_controller: bool, workdir: Path) -> dict[str, Any]:
    """Run the night; returns the figures and the timeline."""
    inbox = Inbox().start()
    url = f"sqlite:///{workdir / 'kyiv-2023-06-01.sqlite3'}"
    env = {"DATABASE_URL": url, "SHELTERWATCH_NOTIFY_CHANNELS": "webhook,door",
           "SHELTERWATCH_FOLLOW_INTERVAL_S": "0.05", "SHELTERWATCH_WORKER_TICK_S": "0.05",
           "SHELTERWATCH_SECRET_KEY": "kyiv-2023-06-01-demo",
           "SHELTERWATCH_MQTT_URL": (os.environ.get("SHELTERWATCH_MQTT_URL")
                                     or "mqtt://127.0.0.1:1883") if door_controller else ""}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    get_settings.cache_clear()
    try:
        clock.set_replay_time(ALERT_START - timedelta(minutes=5))
        cast = _prepare(url, door_controller=door_controller, hooks_url=inbox.url)
        settings = get_settings()
        with TestClient(create_app(settings)) as client:
            worker = Worker(settings).start()
            night = Night(settings, client, worker, door_controller)
            try:
                if door_controller:
                    night.door = Door(cast["clinic"][0], settings.mqtt_url, night).start()
                _script(night, cast, inbox)
                night.run(until=ALERT_START + timedelta(minutes=30))
            finally:
                if night.door:
                    night.door.stop()
                worker.stop()
            _system_events(night)
        timeline = sorted(night.timeline, key=lambda e: e["at"])
        return {**night.figures, "timeline": [{"at": e["at"], "event": e["event"]}
                                               for e in timeline]}
    finally:
        inbox.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        get_settings.cache_clear()
        clock.set_replay_time(datetime.now(UTC))
        db.dispose(url)


SYSTEM_EVENTS: dict[str, str] = {
    FactKind.INCIDENT_OPENED: "incident {tracking_id} opens for shelter {shelter_id}",
    FactKind.INCIDENT_RESOLVED: (
        "incident {tracking_id} resolved: {resolution} after {time_to_open_s} s"),
    FactKind.ESCALATION_STEP: "escalation: {step} for incident {tracking_id}",
    FactKind.DOOR_STATE: "door controller of shelter {shelter_id} reports {state}",
    FactKind.STATUS_CHANGED: "shelter {shelter_id} is now {status}",
}


def _system_events(night: Night) -> None:
    """What the system did, from its own fact log, interleaved with what people did."""
    with db.transaction(night.url) as s:
        for fact in log.after(s, 0, limit=100_000):
            template = SYSTEM_EVENTS.get(fact.kind)
            if template is None:
                continue
            payload = orjson.loads(fact.payload)
            try:
                text = template.format(**payload)
            except KeyError:
                continue
            night.timeline.append({"at": clock.as_utc(fact.at).isoformat().replace("+00:00", "Z"),
                                   "event": f"[system] {text}"})


def _script(night: Night, cast: dict[str, Any], inbox: Inbox) -> None:
    clinic_id, clinic_lat, clinic_lon, clinic_address = cast["clinic"]
    school_id, school_address = cast["school"]
    operator, patrol = cast["operator"], cast["patrol"]

    def alert_starts() -> None:
        night.api("POST", "/v1/alerts", operator, area_id="31",
                  started_at=ALERT_START.isoformat())
        night.note("air-raid alert for Kyiv city starts (alerts.in.ua: 23:49:31 UTC)")

    def on_message(path: str, body: dict[str, Any]) -> None:
        who = path.strip("/")
        night.note(f"{who} keyholder receives '{body.get('event')}': {body.get('subject')}")
        if who == "school" and body.get("event") == "check_in" and body.get("link"):
            token_path = body["link"][body["link"].index("/check-in/"):]

            def tap() -> None:
                night.client.post(token_path)
                night.note(f"school keyholder taps the link: {school_address} is open")
            night.after(KEYHOLDER_TAP_S, tap)
    inbox.on_message = on_message

    def residents_report() -> None:
        if night.door_open_at is not None:
            night.note("residents reach the clinic: the door is already open")
            return
        receipt = night.api("POST", "/v1/reports", shelter_id=clinic_id, kind="locked",
                            lat=clinic_lat, lon=clinic_lon, device_id="resident-phone-0001")
        night.note(f"residents report the clinic {clinic_address} LOCKED "
                   f"(tracking {receipt['tracking_id']})")
        reported = clock.utcnow()
        while (clock.utcnow() - reported).total_seconds() < 60:
            answer = night.api("GET", f"/v1/nearest?lat={clinic_lat}&lon={clinic_lon}&limit=3")
            results = answer["results"]
            top = results[0]["shelter"]["properties"]["id"] if results else None
            clinic_marked = all(r["status"].startswith("locked") for r in results
                                if r["shelter"]["properties"]["id"] == clinic_id)
            if top == school_id and clinic_marked:
                steered = (clock.utcnow() - reported).total_seconds()
                night.figures["steered_after_report_s"] = round(steered, 2)
                night.note(f"a resident asking /v1/nearest at the clinic door is sent to the "
                           f"open school ({results[0]['distance_m']:.0f} m) {steered:.2f} s "
                           "after the report")
                return
            time.sleep(0.02)
        night.note("residents were NOT steered within 60 s")

    def patrol_checks() -> None:
        tasks = night.api("GET", "/v1/tasks", patrol)["tasks"]
        task = next((t for t in tasks if t["kind"] == "open_locked" and t["state"] == "open"),
                    None)
        if task is None:
            if night.door_open_at is None:
                night.after(PATROL_POLL_S, patrol_checks)
            return
        night.api("POST", f"/v1/tasks/{task['id']}/take", patrol)
        eta = float(task["eta_s"] or 300)
        night.note(f"patrol Desnianskyi 1 takes the dispatch to {task['shelter']['address']}, "
                   f"{eta:.0f} s away")

        def arrives() -> None:
            night.note("patrol at the clinic door: still locked, keyholder unreachable; "
                       "forcing the door")

            def forced() -> None:
                night.api("POST", f"/v1/tasks/{task['id']}/result", patrol, kind="forced_open",
                          lat=clinic_lat, lon=clinic_lon)
                night.door_opened("patrol forces the clinic door open")
            night.after(FORCE_DOOR_S, forced)
        night.after(eta, arrives)

    night.at(0, alert_starts)
    night.at(REPORT_AT_S, residents_report)
    night.at(REPORT_AT_S + 1, patrol_checks)


def main(*, json_output: bool, door_controller: bool) -> None:
    """Print the night's timeline and its two figures (or one JSON object)."""
    with tempfile.TemporaryDirectory(prefix="shelterwatch-demo-") as tmp:
        result = replay(door_controller=door_controller, workdir=Path(tmp))
    if json_output:
        print(orjson.dumps(result).decode())
        return
    for entry in result["timeline"]:
        print(f"{entry['at'][11:19]}  {entry['event']}")
    print(f"steered_after_report_s: {result['steered_after_report_s']}")
    print(f"door_open_after_alert_s: {result['door_open_after_alert_s']}")
