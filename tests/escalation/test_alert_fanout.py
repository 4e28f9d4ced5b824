"""A national alert's start, one per oblast at once: every alert's door unlocks queued before any
check-in, all the starts taken together, and a crash part-way losing and repeating nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from sqlalchemy import func, insert, select

from shelterwatch import db
from shelterwatch.alerts import service as alerts
from shelterwatch.areas.models import Area
from shelterwatch.clock import utcnow
from shelterwatch.config import Settings
from shelterwatch.doors.models import DoorController
from shelterwatch.escalation import fanout, links, notices
from shelterwatch.escalation import service as escalation
from shelterwatch.keyholders.models import Keyholder, KeyholderShelter
from shelterwatch.log import service as log
from shelterwatch.log.models import Fact
from shelterwatch.observations.models import Observation
from shelterwatch.outbox import service as outbox
from shelterwatch.outbox.models import Delivery
from shelterwatch.shelters.models import Shelter
from shelterwatch.vocabulary import AlertType, FactKind, Obligation


def _country(url: str, *, per_area: int = 2) -> list[str]:
    """Two 24/7 shelters in every oblast, each with a keyholder (webhook and e-mail) and a door
    controller; returns the oblasts."""
    now = utcnow()
    with db.transaction(url) as s:
        oblasts = list(s.execute(select(Area.id).where(Area.parent_id.is_(None))
                                 .order_by(Area.id)).scalars())
        shelters = [{"id": n + 1, "source": "t", "source_id": str(n), "name": f"S{n}",
                     "address": f"вул. Тестова, {n}", "lat": 50.0, "lon": 30.0,
                     "area_id": area, "kind": "shelter", "obligation": Obligation.ALWAYS.value,
                     "fingerprint": "", "created_at": now, "updated_at": now}
                    for n, area in enumerate(a for a in oblasts for _ in range(per_area))]
        s.execute(insert(Shelter), shelters)
        s.execute(insert(Keyholder), [
            {"id": r["id"], "name": f"K{r['id']}", "webhook": f"http://127.0.0.1:9/k/{r['id']}",
             "email": f"k{r['id']}@example.org", "created_at": now, "active": True}
            for r in shelters])
        s.execute(insert(KeyholderShelter), [{"keyholder_id": r["id"], "shelter_id": r["id"]}
                                             for r in shelters])
        s.execute(insert(DoorController), [
            {"shelter_id": r["id"], "device_id": f"d{r['id']}", "silent": False,
             "registered_at": now} for r in shelters])
        for area in oblasts:
            alerts.start(s, area_id=area, type=AlertType.AIR_RAID, started_at=now,
                         source="test", actor="test", now=now)
    with db.transaction(url) as s:
        facts = log.after(s, 0, limit=100_000)
        escalation.on_facts(s, facts, now=now)
    return oblasts


def _deliveries(url: str) -> list[Delivery]:
    with db.reading(url) as s:
        rows = list(s.execute(select(Delivery).order_by(Delivery.id)).scalars())
        s.expunge_all()
        return rows


def test_every_oblast_start_is_taken_at_once_and_all_doors_go_before_any_check_in(
        settings: Settings) -> None:
    url = settings.database_url
    oblasts = _country(url)
    assert len(oblasts) > escalation.CLAIM_LIMIT  # more starts than one claim of other timers
    ran = escalation.run_due(url, settings=settings, clock=utcnow)
    assert ran >= len(oblasts)
    rows = _deliveries(url)
    doors = [r for r in rows if r.channel == "door"]
    check_ins = [r for r in rows if r.step == "check_in"]
    assert len(doors) == 2 * len(oblasts)
    assert len(check_ins) == 2 * 2 * len(oblasts)  # webhook and e-mail for every shelter
    assert max(r.id for r in doors) < min(r.id for r in check_ins)
    assert {r.priority for r in doors} == {outbox.Priority.DOOR}
    with db.reading(url) as s:
        started = s.execute(select(Fact.payload).where(
            Fact.kind == FactKind.ESCALATION_ALERT_STARTED)).scalars().all()
        assert sorted(orjson.loads(p)["shelters"] for p in started) == [2] * len(oblasts)
        assert sorted(orjson.loads(p)["check_ins"] for p in started) == [2] * len(oblasts)
        broadcasts = [orjson.loads(p) for p in s.execute(select(Fact.payload).where(
            Fact.kind == FactKind.NOTIFICATION_BROADCAST_QUEUED)).scalars()]
        assert [b["channels"] for b in broadcasts if b["step"] == "unlock"] == \
            [{"door": 2}] * len(oblasts)
        assert [b["channels"] for b in broadcasts if b["step"] == "check_in"] == \
            [{"email": 2, "webhook": 2}] * len(oblasts)
        assert log.verify(s).ok


def test_a_keyholder_wanted_at_a_locked_door_goes_before_every_alert_check_in(
        settings: Settings) -> None:
    """A report of a locked door during the surge starts the ladder; its message to the
    keyholder must not wait behind the whole country's check-ins."""
    url = settings.database_url
    _country(url)
    escalation.run_due(url, settings=settings, clock=utcnow)
    now = utcnow()
    with db.transaction(url) as s:
        outbox.enqueue(s, outbox.Outgoing(
            subject="incident:1", step="keyholder", recipient="keyholder:1:webhook",
            channel="webhook", address="http://127.0.0.1:9/k/1", title="Shelter 1 locked",
            body="Residents report the door locked", priority=outbox.Priority.ESCALATION),
            now=now, actor="test")
    with db.transaction(url) as s:
        first = outbox.claim(s, now=now + timedelta(seconds=1), lease_s=60, limit=1,
                             lane=outbox.Lane(frozenset({"door"})).other())
    assert [(r.subject, r.step) for r in first] == [("incident:1", "keyholder")]
    check_ins = [r for r in _deliveries(url) if r.step == "check_in"]
    assert check_ins and {r.priority for r in check_ins} == {outbox.Priority.CHECK_IN}


def test_a_check_in_says_what_the_notice_says_and_its_link_is_signed_as_it_is_sent(
        settings: Settings) -> None:
    url = settings.database_url
    _country(url, per_area=1)
    escalation.run_due(url, settings=settings, clock=utcnow)
    row = next(r for r in _deliveries(url) if r.step == "check_in" and r.channel == "webhook")
    shelter_id = int(orjson.loads(row.data)["shelter_id"])
    with db.reading(url) as s:
        address = s.execute(select(Shelter.address).where(Shelter.id == shelter_id)).scalar_one()
    expected = notices.check_in(where=address)
    assert (row.title, row.body) == (expected.title, expected.body)
    assert row.recipient == f"keyholder:{shelter_id}:webhook"
    assert row.address == f"http://127.0.0.1:9/k/{shelter_id}"
    assert row.link is None  # no secret in the queue: signed by the sender
    now = datetime.now(UTC)
    signed = notices.sign_check_in(settings, outbox.message_of(row), now=now)
    assert signed.link is not None
    grant = links.read_token(settings.secret_key, signed.link.rsplit("/", 1)[1], now=now)
    assert (grant.keyholder_id, grant.shelter_id) == (shelter_id, shelter_id)


def test_a_shelter_opened_by_its_keyholder_since_the_alert_began_is_not_asked(
        settings: Settings) -> None:
    url = settings.database_url
    _country(url, per_area=1)
    with db.transaction(url) as s:
        s.add(Observation(id="OPENED1", shelter_id=1, kind="open", role="keyholder",
                          reporter="keyholder:1", at=utcnow(), seq=0))
    escalation.run_due(url, settings=settings, clock=utcnow)
    asked = {orjson.loads(r.data)["shelter_id"] for r in _deliveries(url) if r.step == "check_in"}
    assert 1 not in asked and 2 in asked


def test_a_crash_between_the_doors_and_the_check_ins_loses_and_repeats_nothing(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    url = settings.database_url
    oblasts = _country(url)
    real = fanout.queue_check_ins

    def power_cut(*args: object, **kwargs: object) -> dict[int, int]:
        raise RuntimeError("power cut")

    monkeypatch.setattr(fanout, "queue_check_ins", power_cut)
    escalation.run_due(url, settings=settings, clock=utcnow)
    rows = _deliveries(url)
    assert {r.channel for r in rows} == {"door"}  # the doors' transaction had committed
    monkeypatch.setattr(fanout, "queue_check_ins", real)
    # Another worker, after the first one's lease ran out, takes the starts over.
    later = utcnow() + timedelta(seconds=settings.outbox_lease_s + 1)
    escalation.run_due(url, settings=settings, clock=lambda: later)
    rows = _deliveries(url)
    keys = [(r.subject, r.step, r.recipient) for r in rows]
    assert len(keys) == len(set(keys))
    assert sum(r.channel == "door" for r in rows) == 2 * len(oblasts)
    assert sum(r.step == "check_in" for r in rows) == 4 * len(oblasts)
    with db.reading(url) as s:
        kinds = dict(s.execute(select(Fact.kind, func.count()).group_by(Fact.kind)).all())
        assert kinds[FactKind.ESCALATION_ALERT_STARTED] == len(oblasts)
        assert log.verify(s).ok
