"""The pollers against loopback servers shaped like alerts.in.ua and ukrainealarm."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from shelterwatch import db
from shelterwatch.alerts import feeds, regions, service
from shelterwatch.alerts.sources import alerts_in_ua, polling, ukrainealarm
from shelterwatch.clock import utcnow
from shelterwatch.config import Settings
from shelterwatch.vocabulary import Threat
from shelterwatch.worker import feeds as feeds_loop
from tests.alerts.providers import (
    BUCHA,
    KYIV,
    LUHANSK,
    Provider,
    alerts_in_ua_body,
    serve,
    ukrainealarm_region,
)

ACTIVE = "/v1/alerts/active.json"


def active_areas(settings: Settings) -> dict[str, str]:
    with db.transaction(settings.database_url) as session:
        return {a.area_id: a.threat for a in service.list_active(session, now=utcnow())}


def test_alerts_in_ua_poll_starts_ends_and_sends_if_modified_since(settings: Settings) -> None:
    with db.transaction(settings.database_url) as session:
        regions.load(session, now=utcnow())
    provider = Provider(routes={ACTIVE: (200, alerts_in_ua_body(LUHANSK, KYIV, BUCHA))})
    with serve(provider):
        poller = alerts_in_ua.AlertsInUaPoller(provider.url, "my-token")
        first = feeds_loop.poll_once(poller, settings)
        assert first.ok and first.started == 3
        assert active_areas(settings) == {"16": "unknown", "31": "ballistic", "75": "unknown"}
        assert feeds_loop.poll_once(poller, settings).started == 0  # 304: nothing changed
        assert provider.requests[-1][1]["If-Modified-Since"] == provider.last_modified
        assert provider.requests[0][1]["Authorization"] == "Bearer my-token"
        provider.routes[ACTIVE] = (200, alerts_in_ua_body(LUHANSK))
        provider.last_modified = "Thu, 01 Jun 2023 01:03:05 GMT"
        assert feeds_loop.poll_once(poller, settings).ended == 2
    assert set(active_areas(settings)) == {"16"}


def test_malformed_payload_is_logged_and_changes_nothing(
        settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    provider = Provider(routes={ACTIVE: (200, alerts_in_ua_body(KYIV))})
    with serve(provider):
        poller = alerts_in_ua.AlertsInUaPoller(provider.url, "t")
        feeds_loop.poll_once(poller, settings)
        provider.last_modified = "Thu, 01 Jun 2023 00:10:00 GMT"
        provider.routes[ACTIVE] = (200, b"<html>502 Bad Gateway</html>")
        with caplog.at_level(logging.WARNING):
            outcome = feeds_loop.poll_once(poller, settings)
        assert not outcome.ok and "malformed" in outcome.reason
        assert "alerts-in-ua poll failed" in caplog.text
        assert set(active_areas(settings)) == {"31"}  # a broken answer ends nothing
        provider.routes[ACTIVE] = (200, {"alerts": [{"location_uid": "31"}], "meta": {}})
        assert not feeds_loop.poll_once(poller, settings).ok
        provider.routes[ACTIVE] = (200, alerts_in_ua_body(KYIV))
        provider.last_modified = "Thu, 01 Jun 2023 00:20:00 GMT"
        assert feeds_loop.poll_once(poller, settings).ok  # the poller carried on


def test_rate_limit_backs_off_and_a_silent_feed_goes_stale(settings: Settings) -> None:
    provider = Provider(routes={ACTIVE: (429, {"message": "Too many requests"})})
    with serve(provider):
        poller = alerts_in_ua.AlertsInUaPoller(provider.url, "t")
        outcome = feeds_loop.poll_once(poller, settings)
    assert outcome.rate_limited
    wait = polling.next_wait(outcome, 15.0, 15.0)
    assert wait == 30.0 and polling.next_wait(outcome, 15.0, wait) == 60.0
    assert polling.next_wait(outcome, 15.0, 1e9) == polling.MAX_BACKOFF_S
    with db.transaction(settings.database_url) as session:
        [state] = feeds.states(session, now=utcnow(), stale_after_s=120)
        assert state.stale and state.failures == 1
        assert "Too many requests" in (state.last_error or "")
        feeds.record_ok(session, source="alerts-in-ua", now=utcnow())
        assert not feeds.states(session, now=utcnow(), stale_after_s=120)[0].stale
        later = utcnow() + timedelta(seconds=121)
        assert feeds.states(session, now=later, stale_after_s=120)[0].stale


def test_ukrainealarm_fetches_alerts_only_when_the_action_index_moves(
        settings: Settings) -> None:
    kyiv = ukrainealarm_region("31", "м. Київ", [("AIR", "2023-05-31T23:49:31Z")])
    oblast = ukrainealarm_region("14", "Київська область", [("AIR", "2023-05-31T23:49:44Z"),
                                                            ("INFO", "2023-05-31T23:40:00Z")])
    provider = Provider(routes={"/api/v3/alerts/status": (200, {"lastActionIndex": 1001}),
                                "/api/v3/alerts": (200, [kyiv, oblast])})
    with serve(provider):
        poller = ukrainealarm.UkraineAlarmPoller(provider.url, "ua-key")
        assert feeds_loop.poll_once(poller, settings).started == 2
        assert feeds_loop.poll_once(poller, settings).started == 0
        paths = [p for p, _ in provider.requests]
        assert paths.count("/api/v3/alerts") == 1 and paths.count("/api/v3/alerts/status") == 2
        assert provider.requests[0][1]["Authorization"] == "ua-key"
        provider.routes["/api/v3/alerts/status"] = (200, {"lastActionIndex": 1002})
        provider.routes["/api/v3/alerts"] = (200, [oblast])
        assert feeds_loop.poll_once(poller, settings).ended == 1
    assert active_areas(settings) == {"14": str(Threat.UNKNOWN)}
