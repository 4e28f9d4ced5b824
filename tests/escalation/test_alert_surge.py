"""An alert over a whole city: every door unlock and check-in queued in chunks, doors first,
each check-in delivered once to a real receiver by the worker's lanes."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from shelterwatch import db
from shelterwatch.alerts import service as alerts
from shelterwatch.config import get_settings
from shelterwatch.doors import service as doors
from shelterwatch.keyholders import service as keyholders
from shelterwatch.log import service as log
from shelterwatch.log.models import Fact
from shelterwatch.outbox.models import Delivery
from shelterwatch.shelters.models import Shelter
from shelterwatch.vocabulary import AlertType, FactKind, Obligation
from shelterwatch.worker.runner import Worker
from tests.notify.receivers import http_receiver

KEYHOLDERS = 250


def test_an_alert_start_queues_doors_first_and_delivers_every_check_in_once(
        kyiv_settings, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SHELTERWATCH_NOTIFY_CHANNELS", "webhook")
    get_settings.cache_clear()
    settings = get_settings()
    url = settings.database_url
    now = datetime.now(UTC)
    with http_receiver() as receiver:
        with db.transaction(url) as s:
            ids = s.execute(select(Shelter.id)
                            .where(Shelter.obligation == Obligation.ALWAYS.value)
                            .order_by(Shelter.id).limit(KEYHOLDERS)).scalars().all()
            for n, shelter_id in enumerate(ids):
                keyholders.create_keyholder(s, contact=keyholders.ContactIn(
                    name=f"k{n}", webhook=f"{receiver.url}/k/{n}"), shelter_ids=[shelter_id],
                    now=now, actor="test")
            for shelter_id in ids[:5]:
                doors.register(s, shelter_id=shelter_id, device_id=f"d{shelter_id}", now=now,
                               actor="test")
            # Started before the worker, which picks active alerts up as it starts (so this
            # test's write never queues behind the worker's own start-up catch-up).
            alerts.start(s, area_id="31", type=AlertType.AIR_RAID, started_at=now,
                         source="test", actor="test", now=now)
        worker = Worker(settings).start()
        try:
            deadline = time.monotonic() + 90
            while len(receiver.requests) < KEYHOLDERS:
                assert time.monotonic() < deadline, f"{len(receiver.requests)} delivered"
                time.sleep(0.1)
        finally:
            worker.stop()
        keys = [r.headers["x-shelterwatch-delivery"] for r in receiver.requests]
    assert len(keys) == len(set(keys)) == KEYHOLDERS
    with db.reading(url) as s:
        rows = s.execute(select(Delivery.id, Delivery.channel, Delivery.step, Delivery.state)
                         .order_by(Delivery.id)).all()
        door_ids = [r.id for r in rows if r.channel == "door"]
        check_in_ids = [r.id for r in rows if r.step == "check_in"]
        assert len(door_ids) == 5 and len(check_in_ids) == KEYHOLDERS
        assert max(door_ids) < min(check_in_ids)  # the doors' chunk was committed first
        assert {r.state for r in rows if r.step == "check_in"} == {"sent"}
        kinds = dict(s.execute(select(Fact.kind, func.count()).group_by(Fact.kind)
                               ).all())
        assert kinds[FactKind.NOTIFICATION_SENT] == KEYHOLDERS
        assert kinds[FactKind.ESCALATION_ALERT_STARTED] == 1
        assert log.verify(s).ok
