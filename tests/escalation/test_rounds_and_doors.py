"""Alert start in-process: check-in requests, risk-ordered rounds, silent door controllers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from shelterwatch import db
from shelterwatch.alerts import service as alerts
from shelterwatch.areas.models import Area
from shelterwatch.doors import service as doors
from shelterwatch.escalation import service as escalation
from shelterwatch.keyholders import service as keyholders
from shelterwatch.log import service as log
from shelterwatch.outbox.models import Delivery
from shelterwatch.patrols import service as patrols
from shelterwatch.patrols.models import Task
from shelterwatch.rules.dispatch import Travel, travel_time_s
from shelterwatch.shelters.models import Shelter
from shelterwatch.vocabulary import AlertType

T0 = datetime(2023, 5, 31, 23, 49, 31, tzinfo=UTC)


def run_worker_until(settings, moment: datetime) -> None:
    """Feed the log to the escalation service and run every timer due by `moment`."""
    with db.transaction(settings.database_url) as s:
        escalation.on_facts(s, log.after(s, 0, limit=100_000), now=T0)
    for _ in range(5):
        escalation.run_due(settings.database_url, settings=settings, clock=lambda: moment)


def test_alert_start_asks_keyholders_and_then_sends_patrols_round_the_unverified(kyiv_settings):
    url = kyiv_settings.database_url
    with db.transaction(url) as s:
        clinic, school = (s.execute(select(Shelter).where(Shelter.address.contains(a)))
                          .scalars().first() for a in ("Курчатова, 18-А", "Курчатова, 18/1"))
        for shelter in (clinic, school):
            keyholders.create_keyholder(s, contact=keyholders.ContactIn(
                name="k", email=f"k{shelter.id}@example.invalid"), shelter_ids=[shelter.id],
                now=T0, actor="test")
        patrols.create_unit(s, name="Desna 1", token_id=None, lat=clinic.lat, lon=clinic.lon,
                            now=T0, actor="test")
        alerts.start(s, area_id="31", type=AlertType.AIR_RAID, started_at=T0, source="test",
                     actor="test", now=T0)
    run_worker_until(kyiv_settings, T0)
    with db.transaction(url) as s:
        asked = s.execute(select(Delivery.subject).where(Delivery.step == "check_in")).all()
        assert len(asked) == 2
        assert s.execute(select(Task)).first() is None  # rounds wait for the check-in grace
    run_worker_until(kyiv_settings, T0 + timedelta(seconds=121))
    with db.transaction(url) as s:
        tasks = s.execute(select(Task).order_by(Task.position)).scalars().all()
        assert 1 <= len(tasks) <= 8
        assert all(t.kind == "check" and t.unit_id is not None for t in tasks)
        etas = [t.eta_s for t in tasks]
        assert etas == sorted(etas)


def test_a_door_controller_that_stops_reporting_is_flagged_and_unflagged(settings, session):
    doors.register(session, shelter_id=1, device_id="kd-1", now=T0, actor="test")
    doors.record_state(session, shelter_id=1, state="locked", at=T0, now=T0)
    assert doors.flag_silent(session, now=T0 + timedelta(seconds=299), stale_after_s=300) == []
    assert doors.flag_silent(session, now=T0 + timedelta(seconds=301), stale_after_s=300) == [1]
    assert doors.get(session, 1).silent
    later = T0 + timedelta(seconds=400)
    doors.record_state(session, shelter_id=1, state="locked", at=later, now=later)
    assert not doors.get(session, 1).silent
    kinds = [f.kind for f in log.after(session, 0)]
    assert kinds.count("door.silent") == 1 and kinds.count("door.back") == 1


def test_a_desnianskyi_patrol_gets_no_round_beyond_its_budget_and_the_desk_sees_the_rest(
        kyiv_settings, kyiv_client, make_token):
    url = kyiv_settings.database_url
    with db.transaction(url) as s:
        patrols.create_unit(s, name="Desna 1", token_id=None, lat=50.5150, lon=30.6050,
                            now=T0, actor="test")
        alerts.start(s, area_id="31", type=AlertType.AIR_RAID, started_at=T0, source="test",
                     actor="test", now=T0)
    run_worker_until(kyiv_settings, T0 + timedelta(seconds=121))
    with db.transaction(url) as s:
        tasks = [(t.shelter_id, t.eta_s) for t in s.execute(select(Task)).scalars()]
        places = {sh.id: sh for sh in s.execute(select(Shelter)).scalars()}
        desna = s.execute(select(Area.id).where(Area.name.like("Деснянський%"))).scalar_one()
        assert tasks and all(eta <= kyiv_settings.round_budget_s for _, eta in tasks)
        for shelter_id, _ in tasks:
            shelter = places[shelter_id]
            if shelter.area_id != desna:  # another district: only where the budget reaches
                assert travel_time_s(50.5150, 30.6050, shelter.lat, shelter.lon,
                                     Travel(speed_mps=kyiv_settings.patrol_speed_mps)
                                     ) <= kyiv_settings.round_budget_s
    board = kyiv_client.get("/v1/console", headers={
        "Authorization": f"Bearer {make_token('operator')}"}).json()
    flagged = {u["shelter_id"] for u in board["unreachable"]}
    assert flagged and not flagged & {shelter_id for shelter_id, _ in tasks}
    with db.reading(url) as s:
        far = s.execute(select(Shelter.lat).where(Shelter.id.in_(flagged))).scalars().all()
    # Flagged ones include shelters across the river, far out of the patrol's reach.
    assert min(far) < 50.42
