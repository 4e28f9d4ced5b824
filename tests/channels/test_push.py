"""Web push from the resident page, against a push-service stand-in that checks VAPID and
decrypts the aes128gcm payload as a browser would."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from shelterwatch import db
from shelterwatch.channels.models import PushSubscription
from shelterwatch.log.models import Fact
from shelterwatch.worker.runner import Worker
from tests.channels.conftest import Town
from tests.channels.push_service import PushService, Refused, check_vapid, push_service
from tests.channels.test_telegram import clinic
from tests.escalation.support import wait_for
from tests.reports.helpers import bearer, token


def subscribe(town: Town, service: PushService, **body: object):
    return town.client.post("/v1/push/subscriptions",
                            json={"subscription": service.subscription(), **body})


def test_a_page_shown_a_door_hears_reported_locked_go_to_x_within_a_minute(town: Town) -> None:
    door = clinic(town)
    operator = token(town.settings.database_url, "operator")
    with push_service() as service:
        shown = town.client.get("/v1/nearest", params={"lat": door.lat + 0.0003,
                                                       "lon": door.lon}).json()["results"]
        ids = [r["shelter"]["properties"]["id"] for r in shown]
        assert door.id in ids
        made = subscribe(town, service, lang="uk", lat=door.lat + 0.0003, lon=door.lon,
                         shown=ids)
        assert made.status_code == 201, made.text
        assert made.json()["area_id"] == door.area_id and made.json()["shown"] == sorted(ids)
        worker = Worker(town.settings.model_copy(update={"notify_channels": ("push",)})).start()
        try:
            town.client.post("/v1/alerts", json={"area_id": "31", "type": "air_raid"},
                             headers=bearer(operator))
            wait_for(lambda: service.received, what="the alert's push")
            reported = time.monotonic()
            receipt = town.client.post("/v1/reports", json={
                "shelter_id": door.id, "kind": "locked", "device_id": "resident-phone-0001",
                "lat": door.lat, "lon": door.lon}).json()
            assert receipt["status"] == "locked_reported"
            redirect = wait_for(lambda: [r for r in service.received
                                         if r.payload.get("kind") == "redirect"],
                                timeout_s=60, what="the redirect push")[0]
        finally:
            worker.stop()
    assert redirect.at - reported < 60
    assert service.refused == []
    key = town.client.get("/v1/push/key").json()["public_key"]
    assert redirect.k == key  # signed with the key the page subscribed with
    payload = redirect.payload
    instead = payload["instead"]
    assert payload["locked"] == door.id and instead not in (None, door.id)
    assert payload["title"] == "Укриття повідомили як зачинене"
    assert "ідіть до" in payload["body"] and f"#{instead}" in payload["body"]
    assert payload["url"] == f"/?shelter={instead}"
    # X is where the ranking sends someone standing at this door, now that it is locked
    from_door = town.client.get("/v1/nearest", params={"lat": door.lat, "lon": door.lon,
                                                       "limit": 5}).json()["results"]
    best = next(r for r in from_door if r["shelter"]["properties"]["id"] != door.id
                and r["status"] not in ("locked_reported", "locked_confirmed"))
    assert instead == best["shelter"]["properties"]["id"]
    alert = next(r for r in service.received if r.payload.get("kind") == "alert_started")
    assert "Повітряна тривога" in alert.payload["body"]
    assert redirect.urgency == "high" and int(redirect.ttl) > 0
    # the endpoint is private: not in the public log
    assert service.endpoint not in town.client.get("/v1/log").text
    with db.reading(town.settings.database_url) as s:
        assert not any(service.endpoint in p for p in s.execute(select(Fact.payload)).scalars())


def test_only_push_services_hosts_are_accepted_as_endpoints(town: Town) -> None:
    with push_service() as service:
        sub = service.subscription()
        for endpoint in ("https://169.254.169.254/latest/meta-data", "http://example.com/push",
                         "https://fcm.googleapis.com.evil.example/x"):
            bad = town.client.post("/v1/push/subscriptions",
                                   json={"subscription": {**sub, "endpoint": endpoint}})
            assert bad.status_code == 422, endpoint
            assert "push service" in bad.json()["detail"]
        with db.reading(town.settings.database_url) as s:
            assert s.execute(select(PushSubscription)).first() is None


def test_an_expired_subscription_is_not_sent_and_is_forgotten(town: Town) -> None:
    from datetime import timedelta

    from shelterwatch.channels.push import service as push
    from shelterwatch.clock import utcnow

    door = clinic(town)
    with push_service() as service:
        assert subscribe(town, service, shown=[door.id]).status_code == 201
        url = town.settings.database_url
        later = utcnow() + timedelta(days=town.settings.push_subscription_days, seconds=1)
        with db.transaction(url) as s:
            assert push.redirect(s, shelter_id=door.id, status="locked_reported", instead=None,
                                 seq=1, now=later, window_s=10**9) == 0
            assert push.forget_expired(s, now=later, shown_window_s=3600) == 1
        with db.reading(url) as s:
            assert s.execute(select(PushSubscription)).first() is None


def test_the_stand_in_refuses_a_forged_vapid_signature() -> None:
    from py_vapid import Vapid

    key = Vapid()
    key.generate_keys()
    now = time.time()
    header = key.sign({"sub": "mailto:a@example.org", "aud": "http://127.0.0.1:1",
                       "exp": int(now) + 600})["Authorization"]
    assert check_vapid(header, audience="http://127.0.0.1:1", now=now)
    token_part = header.split("t=")[1].split(",")[0]
    forged = header.replace(token_part, token_part[:-3] + ("AAA" if token_part[-3:] != "AAA"
                                                          else "BBB"))
    with pytest.raises(Refused):
        check_vapid(forged, audience="http://127.0.0.1:1", now=now)
    with pytest.raises(Refused):
        check_vapid(header, audience="http://127.0.0.1:2", now=now)
