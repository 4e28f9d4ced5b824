"""When the alert ends, the doors still reported locked close as `alert_ended` — exactly once."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from shelterwatch import db
from shelterwatch.alerts import service as alerts
from shelterwatch.areas.models import Area
from shelterwatch.clock import utcnow
from shelterwatch.escalation import alert_end
from shelterwatch.escalation.models import Timer
from shelterwatch.incidents.models import Incident
from shelterwatch.intake import service as intake
from shelterwatch.patrols import service as patrols
from shelterwatch.patrols.models import Task
from shelterwatch.shelters.models import Shelter
from shelterwatch.vocabulary import AlertType, ObservationKind, Role
from tests.escalation.support import wait_for
from tests.reports.helpers import kyiv_shelter
from tests.support.worker import facts, running, worker_settings


def start_alert(url: str, area_id: str = "31") -> int:
    now = utcnow()
    with db.transaction(url) as s:
        return alerts.start(s, area_id=area_id, type=AlertType.AIR_RAID, started_at=now,
                            source="test", actor="test", now=now).alert.id


def end_alert(url: str, alert_id: int) -> None:
    now = utcnow()
    with db.transaction(url) as s:
        alerts.end_by_id(s, alert_id=alert_id, ended_at=now, actor="test", now=now)


def report_locked(url: str, shelter_id: int, device: str = "phone-1") -> int | None:
    with db.transaction(url) as s:
        shelter = s.get(Shelter, shelter_id)
        done = intake.submit(s, shelter_id=shelter_id, kind=ObservationKind.LOCKED,
                             role=Role.RESIDENT, reporter=device, actor="resident",
                             now=utcnow(), tracking_prefix="KV", lat=shelter.lat,
                             lon=shelter.lon)
        return done.incident.id if done.incident else None


def add_patrol(url: str, near: int) -> None:
    with db.transaction(url) as s:
        shelter = s.get(Shelter, near)
        patrols.create_unit(s, name="Desna 12", token_id=None, lat=shelter.lat, lon=shelter.lon,
                            now=utcnow(), actor="test")


def incidents(url: str) -> list[Incident]:
    with db.reading(url) as s:
        rows = list(s.execute(select(Incident).order_by(Incident.id)).scalars())
        s.expunge_all()  # plain objects once the snapshot ends
        return rows


def tasks(url: str) -> list[Task]:
    with db.reading(url) as s:
        rows = list(s.execute(select(Task).order_by(Task.id)).scalars())
        s.expunge_all()
        return rows


def resolutions(url: str) -> dict[int, list[str]]:
    seen: dict[int, list[str]] = {}
    for payload in facts(url, "incident.resolved"):
        seen.setdefault(int(payload["id"]), []).append(payload["resolution"])
    return seen


@pytest.mark.slow  # two workers
def test_alert_end_closes_open_cases_as_alert_ended_once_with_two_workers(kyiv_settings):
    url = kyiv_settings.database_url
    doors = [kyiv_shelter(url, i).id for i in range(2)]
    add_patrol(url, doors[0])
    alert = start_alert(url)
    cases = [report_locked(url, d) for d in doors]
    assert all(cases)
    settings = worker_settings(kyiv_settings)
    with running(settings), running(settings):
        wait_for(lambda: len([t for t in tasks(url) if t.kind == "open_locked"]) == 2,
                 what="a patrol task for each door")
        end_alert(url, alert)
        wait_for(lambda: all(i.resolved_at for i in incidents(url)), what="cases closed")
        time.sleep(0.5)  # a second worker's duplicate would have landed by now
    assert resolutions(url) == {case: ["alert_ended"] for case in cases}
    assert {i.resolution for i in incidents(url)} == {"alert_ended"}
    dispatched = [t for t in tasks(url) if t.kind == "open_locked"]
    assert {t.state for t in dispatched} == {"cancelled"}
    cancelled = [p["id"] for p in facts(url, "task.cancelled")]
    assert sorted(cancelled) == sorted({t.id for t in tasks(url) if t.state == "cancelled"})
    with db.reading(url) as s:
        waiting = s.execute(select(Timer).where(Timer.state != "done")).scalars().all()
    assert waiting == []


@pytest.mark.slow  # workers restarted
def test_alert_that_ended_while_no_worker_ran_is_closed_by_the_next_one_once(kyiv_settings):
    url = kyiv_settings.database_url
    door = kyiv_shelter(url, 0).id
    alert = start_alert(url)
    settings = worker_settings(kyiv_settings)
    with running(settings):
        case = report_locked(url, door)
        wait_for(lambda: facts(url, "escalation.step"), what="the ladder's first rung")
    end_alert(url, alert)  # the worker is down
    assert incidents(url)[0].resolved_at is None
    with running(settings):
        wait_for(lambda: incidents(url)[0].resolved_at, what="case closed after the restart")
    with running(settings):  # restarted again: nothing left to do, nothing done twice
        time.sleep(0.3)
    assert resolutions(url) == {case: ["alert_ended"]}


def test_racing_sweeps_resolve_each_case_exactly_once(kyiv_settings):
    url = kyiv_settings.database_url
    alert = start_alert(url)
    cases = [report_locked(url, kyiv_shelter(url, i).id) for i in range(3)]
    end_alert(url, alert)
    barrier = threading.Barrier(4)
    swept: list[list[int]] = []

    def sweep() -> None:
        barrier.wait()
        with db.transaction(url) as s:
            swept.append(alert_end.close_ended(s, now=utcnow()).incidents)

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(i for batch in swept for i in batch) == sorted(cases)
    assert resolutions(url) == {case: ["alert_ended"] for case in cases}


def test_a_case_stays_open_while_another_alert_still_covers_the_door(kyiv_settings):
    url = kyiv_settings.database_url
    with db.reading(url) as s:
        district = s.execute(select(Area.id).where(Area.parent_id == "31")
                             .order_by(Area.id)).scalars().first()
        door = s.execute(select(Shelter.id).where(Shelter.area_id == district)
                         .order_by(Shelter.id)).scalars().first()
    city = start_alert(url, "31")
    local = start_alert(url, district)
    case = report_locked(url, door)
    assert incidents(url)[0].alert_id == city  # the oldest alert over the door
    end_alert(url, city)
    with db.transaction(url) as s:
        assert alert_end.close_ended(s, now=utcnow()).incidents == []
    end_alert(url, local)
    with db.transaction(url) as s:
        later = utcnow() + timedelta(seconds=1)
        assert alert_end.close_ended(s, now=later).incidents == [case]
    assert resolutions(url) == {case: ["alert_ended"]}


def test_a_sweep_looks_without_the_lock_and_finds_work_only_after_an_alert_ended(
        kyiv_settings):
    """During a surge every patrol task triggers a sweep; with every alert still on, the look
    finds nothing, so no sweep takes the log's lock that residents' reports wait for."""
    url = kyiv_settings.database_url
    alert = start_alert(url)
    assert report_locked(url, kyiv_shelter(url, 0).id)

    def to_sweep() -> bool:
        with db.reading(url) as s:
            return alert_end.anything_to_sweep(s)

    assert not to_sweep(), "an open case under a running alert is not the sweep's"
    end_alert(url, alert)
    assert to_sweep()
    with db.transaction(url) as s:
        assert alert_end.close_ended(s, now=utcnow()).incidents
    assert not to_sweep()
