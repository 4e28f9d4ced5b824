"""The operator starts and ends alerts over HTTP; everyone sees them, live on the stream."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient

from shelterwatch.app import create_app
from shelterwatch.config import Settings
from tests.support.server import LiveServer

HOLOSIIV = "UA80000000000126643"


def test_operator_alert_on_kyiv_shows_on_every_district_until_ended(
        client: TestClient, make_token: Callable[..., str]) -> None:
    auth = {"Authorization": f"Bearer {make_token('operator', 'desk')}"}
    started = client.post("/v1/alerts", json={"area_id": "31", "type": "air_raid",
                                              "threat": "ballistic"}, headers=auth)
    assert started.status_code == 201
    again = client.post("/v1/alerts", json={"area_id": "31", "type": "air_raid"}, headers=auth)
    assert again.status_code == 200 and again.json()["id"] == started.json()["id"]
    active = client.get("/v1/alerts/active").json()
    assert [a["area_id"] for a in active["alerts"]] == ["31"] and active["stale"] is False
    district = client.get(f"/v1/areas/{HOLOSIIV}/alerts").json()
    assert district["now"]["under_alert"] and district["now"]["warning_s"] == 120
    assert district["covered_by"] == [HOLOSIIV, "31"]
    ended = client.post(f"/v1/alerts/{started.json()['id']}/end", headers=auth)
    assert ended.status_code == 200 and ended.json()["ended_at"]
    assert client.get("/v1/alerts/active").json()["alerts"] == []
    history = client.get(f"/v1/areas/{HOLOSIIV}/alerts").json()
    assert not history["now"]["under_alert"] and len(history["alerts"]) == 1


def test_residents_cannot_start_alerts_and_unknown_areas_are_named(
        client: TestClient, make_token: Callable[..., str]) -> None:
    assert client.post("/v1/alerts", json={"area_id": "31"}).status_code == 401
    keyholder = {"Authorization": f"Bearer {make_token('keyholder', shelter_ids=(1,))}"}
    assert client.post("/v1/alerts", json={"area_id": "31"}, headers=keyholder).status_code == 403
    operator = {"Authorization": f"Bearer {make_token('operator')}"}
    missing = client.post("/v1/alerts", json={"area_id": "999999"}, headers=operator)
    assert missing.status_code == 404 and "999999" in missing.json()["detail"]


def test_operator_uploads_a_ukrainian_cap_alert(client: TestClient,
                                                make_token: Callable[..., str]) -> None:
    from pathlib import Path

    xml = (Path(__file__).parent.parent / "fixtures/cap/ua-kyiv-air-raid.xml").read_bytes()
    auth = {"Authorization": f"Bearer {make_token('operator')}",
            "Content-Type": "application/cap+xml"}
    body = client.post("/v1/alerts/cap", content=xml, headers=auth).json()
    assert body["messages"][0]["action"] == "started"
    old = (Path(__file__).parent.parent /
           "fixtures/cap/nws-5c2cf27b1f56885d61654dc47fa411d5.xml").read_bytes()
    refused = client.post("/v1/alerts/cap", content=old, headers=auth)
    assert refused.status_code == 422 and "CAP 1.1 is not supported" in refused.json()["detail"]


def test_ukrainealarm_push_starts_and_ends_with_the_shared_secret(settings: Settings) -> None:
    settings.ukrainealarm_webhook_secret = "s3cret"
    with TestClient(create_app(settings)) as client:
        push = {"regionId": "31", "regionType": "State", "alertType": "AIR",
                "status": "Activate", "createdAt": "2023-05-31T23:49:31Z"}
        assert client.post("/v1/alerts/webhooks/ukrainealarm", json=push).status_code == 401
        ok = {"X-Webhook-Secret": "s3cret"}
        first = client.post("/v1/alerts/webhooks/ukrainealarm", json=push, headers=ok).json()
        again = client.post("/v1/alerts/webhooks/ukrainealarm", json=push, headers=ok).json()
        assert first["applied"] and not again["applied"]
        end = {**push, "status": "Deactivate", "createdAt": "2023-06-01T01:03:05Z"}
        ended = client.post("/v1/alerts/webhooks/ukrainealarm", json=end, headers=ok).json()
        assert ended["alert"]["ended_at"] == "2023-06-01T01:03:05+00:00"


@pytest.mark.slow  # a live server's stream
def test_alert_events_appear_on_the_stream(settings: Settings,
                                           live_server: Callable[..., LiveServer],
                                           make_token: Callable[..., str]) -> None:
    server = live_server()
    auth = {"Authorization": f"Bearer {make_token('operator')}"}
    created = httpx.post(f"{server.url}/v1/alerts", json={"area_id": "14", "threat": "drones"},
                         headers=auth, timeout=10).json()
    seen: list[str] = []
    with httpx.stream("GET", f"{server.url}/v1/stream?after=0", timeout=10) as response:
        for line in response.iter_lines():
            seen.append(line)
            if line.startswith("data:") and f'"id":{created["id"]}' in line.replace(" ", ""):
                break
    assert "event: alert" in seen


def test_an_alert_starting_in_the_future_is_refused_and_does_not_block_the_area(
        client, make_token) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    operator = {"Authorization": f"Bearer {make_token('operator')}"}
    later = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    r = client.post("/v1/alerts", json={"area_id": "31", "type": "air_raid",
                                        "started_at": later}, headers=operator)
    assert r.status_code == 422
    assert "is in the future" in r.json()["detail"]
    now = client.post("/v1/alerts", json={"area_id": "31", "type": "air_raid"},
                      headers=operator)
    assert now.status_code == 201  # a real start still sounds
    soon = (datetime.now(UTC) + timedelta(seconds=30)).isoformat()  # a clock a little ahead
    r = client.post("/v1/alerts", json={"area_id": "31", "type": "artillery",
                                        "started_at": soon}, headers=operator)
    assert r.status_code == 201
