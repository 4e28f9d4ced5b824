"""The whole loop through the real server, the real worker, SMTP, HTTP receivers and MQTT."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from shelterwatch import db
from shelterwatch.auth import service as auth
from shelterwatch.clock import utcnow
from shelterwatch.config import Settings
from shelterwatch.keyholders import service as keyholders
from shelterwatch.patrols import service as patrols
from shelterwatch.shelters.models import Shelter
from tests.escalation.support import MQTT_URL, SimulatedDoor, WorkerProcess, wait_for
from tests.notify.receivers import HttpReceiver, Mailbox, http_receiver, smtp_server

# One worker runs these: the door controllers talk over one broker, by shelter id.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("mqtt")]
CLINIC_ADDRESS = "вул. Курчатова, 18-А"  # ЦПМСД № 4, Desnianskyi district
OPERATOR_AFTER_S = 5.0  # long enough that a loaded CI machine still reaches the others first


@dataclass
class City:
    server: str
    operator: str
    patrol: str
    clinic: Shelter
    mailbox: Mailbox
    hooks: HttpReceiver
    env: dict[str, str]
    tmp: Path
    workers: list[WorkerProcess]

    def worker(self) -> WorkerProcess:
        w = WorkerProcess(self.env, self.tmp / f"worker-{len(self.workers)}.log").start()
        self.workers.append(w)
        return w

    def post(self, path: str, token: str | None = None, **body: object) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.post(self.server + path, json=body, headers=headers, timeout=10)

    def get(self, path: str, token: str) -> httpx.Response:
        return httpx.get(self.server + path, headers={"Authorization": f"Bearer {token}"},
                         timeout=10)

    def hooks_to(self, path: str, event: str | None = None) -> list[dict]:
        return [r.json() for r in self.hooks.requests
                if r.path == path and (event is None or r.json().get("event") == event)]

    def locked_mails(self) -> list[dict]:
        return [m for m in self.mailbox.messages if "LOCKED" in m["subject"]]


@pytest.fixture
def city(kyiv_settings: Settings, live_server, tmp_path: Path) -> Iterator[City]:
    with smtp_server() as mailbox, http_receiver() as hooks:
        now = utcnow()
        with db.transaction(kyiv_settings.database_url) as s:
            clinic = s.execute(select(Shelter).where(
                Shelter.address.contains(CLINIC_ADDRESS))).scalars().first()
            assert clinic is not None, "the bundled registry lost the clinic"
            keyholders.create_keyholder(
                s, contact=keyholders.ContactIn(name="Clinic keyholder",
                                                email="clinic-keys@example.invalid",
                                                webhook=hooks.url + "/keyholder"),
                shelter_ids=[clinic.id], now=now, actor="test")
            _, operator = auth.create(s, role="operator", name="desk", now=now)
            token, patrol = auth.create(s, role="patrol", name="Desna 12", now=now)
            patrols.create_unit(s, name="Desna 12", token_id=token.id, lat=50.4850,
                                lon=30.6280, now=now, actor="test")
        env = {
            "SHELTERWATCH_SMTP_URL": mailbox.url,
            "SHELTERWATCH_MQTT_URL": MQTT_URL,
            "SHELTERWATCH_NOTIFY_CHANNELS": "webhook,email,door",
            "SHELTERWATCH_ESCALATION_OPERATOR_AFTER_S": str(OPERATOR_AFTER_S),
            "SHELTERWATCH_OPERATOR_CONTACTS": f"webhook={hooks.url}/operator",
            "SHELTERWATCH_WORKER_TICK_S": "0.05",
            "SHELTERWATCH_FOLLOW_INTERVAL_S": "0.05",
            "SHELTERWATCH_OUTBOX_BACKOFF_S": "0.2",
            "SHELTERWATCH_OUTBOX_LEASE_S": "3",  # a killed worker's claims come back soon
        }
        server = live_server(**env)
        c = City(server.url, operator, patrol, clinic, mailbox, hooks,
                 {"DATABASE_URL": kyiv_settings.database_url, **env}, tmp_path, [])
        try:
            yield c
        finally:
            for w in c.workers:
                w.stop()


def start_alert_and_report_locked(city: City) -> float:
    assert city.post("/v1/alerts", city.operator, area_id="31").status_code == 201
    reported = city.post("/v1/reports", shelter_id=city.clinic.id, kind="locked",
                         lat=city.clinic.lat, lon=city.clinic.lon, device_id="resident-phone-1")
    assert reported.status_code == 201, reported.text
    return time.monotonic()


def patrol_tasks(city: City) -> list[dict]:
    return city.get("/v1/tasks", city.patrol).json()["tasks"]


def open_locked_task(city: City) -> dict | None:
    return next((t for t in patrol_tasks(city) if t["kind"] == "open_locked"), None)


def test_locked_report_during_alert_reaches_keyholder_and_patrol_at_once(city):
    city.worker()
    t0 = start_alert_and_report_locked(city)
    wait_for(lambda: city.locked_mails(), what="keyholder e-mail")
    wait_for(lambda: city.hooks_to("/keyholder", "notify_keyholders"), what="keyholder webhook")
    task = wait_for(lambda: open_locked_task(city), what="patrol task")
    operator_so_far = city.hooks_to("/operator")  # read before the clock, so within the delay
    at_once = time.monotonic() - t0
    assert at_once < OPERATOR_AFTER_S, "keyholder and patrol must not wait for the operator rung"
    (mail,) = city.locked_mails()
    assert mail["to"] == ["clinic-keys@example.invalid"]
    assert CLINIC_ADDRESS in mail["subject"] and "/check-in/" in mail["body"]
    assert task["shelter"]["id"] == city.clinic.id and task["unit_id"] is not None
    assert operator_so_far == []


def test_still_locked_after_the_delay_reaches_the_operator_once(city):
    city.worker()
    t0 = start_alert_and_report_locked(city)
    escalated = wait_for(lambda: city.hooks_to("/operator"), what="operator escalation")
    assert time.monotonic() - t0 >= OPERATOR_AFTER_S - 0.5
    assert escalated[0]["event"] == "escalate_operator"
    board = city.get("/v1/console", city.operator).json()
    (incident,) = board["incidents"]
    taken = {r["step"]: r["taken_at"] for r in incident["ladder"]}
    assert taken["escalate_operator"] and taken["notify_keyholders"]


def test_worker_killed_mid_ladder_sends_nothing_twice(city):
    first = city.worker()
    start_alert_and_report_locked(city)
    wait_for(lambda: city.locked_mails() and city.hooks_to("/keyholder", "notify_keyholders"),
             what="first rungs")
    first.kill()  # SIGKILL between the first rungs and the operator rung
    city.worker()
    city.worker()  # and a second worker sharing the queue
    wait_for(lambda: city.hooks_to("/operator"), timeout_s=20, what="operator after restart")
    time.sleep(1.0)  # anything duplicated would arrive by now
    # Nothing twice. A check-in request the killed worker was in the middle of sending may
    # be missing (it is dead-lettered, not resent), never doubled.
    assert len(city.locked_mails()) == 1
    assert len(city.mailbox.messages) - len(city.locked_mails()) <= 1
    assert len(city.hooks_to("/keyholder", "notify_keyholders")) == 1
    assert len(city.hooks_to("/keyholder", "check_in")) <= 1
    assert len(city.hooks_to("/operator")) == 1
    assert len([t for t in patrol_tasks(city) if t["kind"] == "open_locked"]) == 1


def test_keyholder_tapping_the_link_calls_off_the_patrol(city):
    city.worker()
    start_alert_and_report_locked(city)
    wait_for(lambda: open_locked_task(city), what="patrol task")
    mail = wait_for(lambda: city.locked_mails(), what="keyholder e-mail")[0]
    link = next(w for w in mail["body"].split() if "/check-in/" in w)
    path = link[link.index("/check-in/"):]
    page = httpx.get(city.server + path, timeout=10)
    assert page.status_code == 200 and "<form" in page.text  # looking records nothing
    assert open_locked_task(city) is not None
    tapped = httpx.post(city.server + path, timeout=10)
    assert tapped.status_code == 201
    wait_for(lambda: open_locked_task(city) is None, what="task cancelled")
    shelter = httpx.get(f"{city.server}/v1/shelters/{city.clinic.id}", timeout=10).json()
    assert shelter["properties"]["status"] == "open_verified"


def test_patrol_forcing_the_door_resolves_the_incident(city):
    city.worker()
    start_alert_and_report_locked(city)
    task = wait_for(lambda: open_locked_task(city), what="patrol task")
    assert city.post(f"/v1/tasks/{task['id']}/take", city.patrol).status_code == 200
    done = city.post(f"/v1/tasks/{task['id']}/result", city.patrol, kind="forced_open",
                     lat=city.clinic.lat, lon=city.clinic.lon)
    assert done.status_code == 201, done.text
    assert done.json()["check"]["incident"]["resolution"] == "forced_open"
    assert open_locked_task(city) is None


def test_alert_start_unlocks_the_door_controller_and_its_state_is_evidence(city):
    assert city.post("/v1/doors", city.operator, shelter_id=city.clinic.id,
                     device_id="kd-18a").status_code == 201
    door = SimulatedDoor(city.clinic.id).start()
    try:
        city.worker()
        time.sleep(0.5)  # the worker subscribes to door states
        assert city.post("/v1/alerts", city.operator, area_id="31").status_code == 201
        wait_for(lambda: door.commands, what="unlock command")
        assert door.commands[0]["command"] == "unlock"

        def status() -> str:
            r = httpx.get(f"{city.server}/v1/shelters/{city.clinic.id}", timeout=10)
            return r.json()["properties"]["status"]

        wait_for(lambda: status() == "open_verified", what="door state as evidence")
    finally:
        door.stop()
