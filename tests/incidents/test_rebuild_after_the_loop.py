"""After a whole night of the loop, `shelterwatch rebuild` reproduces every derived table."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from shelterwatch import db
from shelterwatch.auth import service as auth
from shelterwatch.cli.main import app as cli
from shelterwatch.clock import utcnow
from shelterwatch.config import get_settings
from shelterwatch.keyholders import service as keyholders
from shelterwatch.patrols import service as patrols
from shelterwatch.patrols.models import Task
from shelterwatch.shelters.models import Shelter
from shelterwatch.stats import service as stats
from shelterwatch.stats.models import StatsCase
from shelterwatch.vocabulary import TaskKind
from tests.escalation.support import wait_for
from tests.notify.receivers import http_receiver
from tests.reports.helpers import bearer, kyiv_shelter, token
from tests.support.worker import derived_tables, facts, running, worker_idle, worker_settings

CLINIC, SCHOOL = "вул. Курчатова, 18-А", "Курчатова, 18/1"  # Desnianskyi, side by side


# A whole night of the loop, the worker running.
pytestmark = pytest.mark.slow


def test_rebuild_after_alert_reports_check_in_patrol_forced_open_and_alert_end_equals_live(
        kyiv_client: TestClient, kyiv_settings, monkeypatch) -> None:
    monkeypatch.setenv("SHELTERWATCH_ESCALATION_CHECK_IN_GRACE_S", "1")  # rounds come soon
    get_settings.cache_clear()
    url = kyiv_settings.database_url
    with db.transaction(url) as s:
        clinic, school = (s.execute(select(Shelter).where(Shelter.address.contains(a)))
                          .scalars().first() for a in (CLINIC, SCHOOL))
        clinic_id, school_id = clinic.id, school.id
        now = utcnow()
        patrol_token, patrol = auth.create(s, role="patrol", name="Desna 12", now=now)
        patrols.create_unit(s, name="Desna 12", token_id=patrol_token.id, lat=clinic.lat,
                            lon=clinic.lon, now=now, actor="test")
        patrols.create_unit(s, name="Desna 14", token_id=None, lat=school.lat + 0.02,
                            lon=school.lon, now=now, actor="test")
    operator = token(url, "operator")
    school_keys = token(url, "keyholder", (school_id,))
    other = kyiv_shelter(url, 3)
    third = kyiv_shelter(url, 5)

    def post(path: str, body: dict, who: str | None = None) -> dict:
        r = kyiv_client.post(path, json=body, headers=bearer(who) if who else {})
        assert r.status_code in (200, 201), r.text
        return r.json()

    def locked(shelter_id: int, lat: float, lon: float, device: str) -> dict:
        return post("/v1/reports", {"shelter_id": shelter_id, "kind": "locked", "lat": lat,
                                    "lon": lon, "device_id": device})

    def task_for(shelter_id: int) -> dict | None:
        tasks = kyiv_client.get("/v1/tasks", headers=bearer(patrol)).json()["tasks"]
        return next((t for t in tasks if t["kind"] == "open_locked"
                     and t["shelter_id"] == shelter_id), None)

    with http_receiver() as hooks, running(worker_settings(get_settings())):
        with db.transaction(url) as s:
            keyholders.create_keyholder(s, contact=keyholders.ContactIn(
                name="Clinic keyholder", webhook=hooks.url + "/keyholder"),
                shelter_ids=[clinic_id], now=utcnow(), actor="test")
        alert = post("/v1/alerts", {"area_id": "31"}, operator)["id"]
        post("/v1/checks", {"shelter_id": school_id, "kind": "open"}, school_keys)
        for n in range(3):
            locked(clinic_id, clinic.lat, clinic.lon, f"resident-phone-{n}")
        task = wait_for(lambda: task_for(clinic_id), what="the patrol dispatched")
        post(f"/v1/tasks/{task['id']}/take", {}, patrol)
        post(f"/v1/tasks/{task['id']}/result", {"kind": "forced_open", "lat": clinic.lat,
                                                "lon": clinic.lon, "note": "door cut"}, patrol)
        locked(other.id, other.lat, other.lon, "resident-phone-9")
        wait_for(lambda: task_for(other.id), what="a second dispatch")
        wait_for(lambda: facts(url, "escalation.rounds"), what="check rounds planned")
        post(f"/v1/alerts/{alert}/end", {}, operator)
        wait_for(lambda: [r for r in facts(url, "incident.resolved")
                          if r["resolution"] == "alert_ended"], what="alert end closes the case")
        post("/v1/alerts", {"area_id": "31"}, operator)  # the next alert, its ladder mid-way
        locked(third.id, third.lat, third.lon, "resident-phone-7")
        wait_for(lambda: task_for(third.id), what="the third dispatch")
        wait_for(lambda: worker_idle(url), what="the worker caught up")
        wait_for(lambda: hooks.requests, what="the keyholder told")

    resolved = {r["shelter_id"]: r["resolution"] for r in facts(url, "incident.resolved")}
    assert resolved == {clinic_id: "forced_open", other.id: "alert_ended"}
    live = derived_tables(url)
    with db.reading(url) as s:
        states = {tuple(r) for r in s.execute(select(Task.kind, Task.state))}
    assert {("open_locked", "done"), ("open_locked", "cancelled"), ("open_locked", "open"),
            ("check", "cancelled")} <= states, states
    assert any(t[2] == "pending" for t in live["escalation_timers"])  # the operator rung ahead
    assert live["escalation_steps"] and len(live["incidents"]) == 3

    # The accountability rollups saw the same night: the clinic's case, step by step.
    with db.transaction(url) as s:
        while stats.catch_up(s):
            pass
        case = s.execute(select(StatsCase).where(StatsCase.shelter_id == clinic_id)).scalar_one()
        assert case.first_notified_at and case.patrol_dispatched_at and case.door_open_at
        assert case.created_at <= case.first_notified_at and case.created_at <= case.closed_at
        assert (case.resolution, case.evidence_kind) == ("forced_open", "patrol:forced_open")

    outcome = CliRunner().invoke(cli, ["rebuild"])
    assert outcome.exit_code == 0, outcome.output
    rebuilt = derived_tables(url)
    for table, rows in live.items():
        assert rebuilt[table] == rows, table
    with db.transaction(url) as s:  # and life goes on: new tasks number on after the log's
        fresh = patrols.create_task(s, key="after-rebuild", kind=TaskKind.CHECK,
                                    shelter_id=third.id, now=utcnow(), actor="test")
        assert fresh.id == max(row[0] for row in live["patrol_tasks"]) + 1
