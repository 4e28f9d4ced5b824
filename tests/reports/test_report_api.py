"""What a resident's phone sees when it reports: receipts, retries, mistakes and limits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from shelterwatch import db
from shelterwatch.app import create_app
from shelterwatch.config import Settings
from shelterwatch.log.models import Fact
from shelterwatch.rules import tracking
from tests.reports.helpers import bearer, kyiv_shelter, token


def test_retry_with_the_same_idempotency_key_returns_the_first_receipt(
        kyiv_client: TestClient, kyiv_settings: Settings) -> None:
    shelter = kyiv_shelter(kyiv_settings.database_url)
    body = {"shelter_id": shelter.id, "kind": "full", "device_id": "phone-retry-1"}
    first = kyiv_client.post("/v1/reports", json=body, headers={"Idempotency-Key": "abc-1"})
    again = kyiv_client.post("/v1/reports", json=body, headers={"Idempotency-Key": "abc-1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert tracking.parse(first.json()["tracking_id"]) == first.json()["tracking_id"]
    other = kyiv_client.post("/v1/reports", json={**body, "kind": "open"},
                             headers={"Idempotency-Key": "abc-1"})
    assert other.status_code == 409
    assert "different request" in other.json()["detail"]
    with db.reading(kyiv_settings.database_url) as s:
        kinds = s.execute(select(Fact.kind).where(Fact.kind == "observation.recorded")).all()
    assert len(kinds) == 1


@pytest.mark.parametrize(("body", "detail"), [
    ({"kind": "locked"}, "shelter_id: Field required"),
    ({"shelter_id": 1, "kind": "forced_open"}, "kind: Input should be"),
    ({"shelter_id": 1, "kind": "locked", "lat": 91, "lon": 30}, "lat: Input should be less"),
    ({"shelter_id": 1, "kind": "locked", "lat": 50.4}, "lat and lon come together"),
    ({"shelter_id": 1, "kind": "unfit"}, "reason is required when kind is unfit"),
    ({"shelter_id": 1, "kind": "locked", "note": "x" * 1001}, "note: String should have at most"),
    ({"shelter_id": 1, "kind": "locked", "device_id": "bad id!"}, "device_id: String should"),
    ({"shelter_id": 1, "kind": "locked", "extra": 1}, "extra: Extra inputs are not permitted"),
    ({"shelter_id": 999999, "kind": "locked"}, "shelter 999999 does not exist"),
])
def test_a_mistake_in_a_report_is_named_precisely(
        kyiv_client: TestClient, body: dict[str, object], detail: str) -> None:
    r = kyiv_client.post("/v1/reports", json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert detail in r.json()["detail"]


@pytest.mark.parametrize("raw", [b"", b"{\"shelter_id\": 1,", b"[1, 2]", b"\xff"])
def test_a_body_that_is_not_a_report_is_refused_as_invalid_input(
        kyiv_client: TestClient, raw: bytes) -> None:
    r = kyiv_client.post("/v1/reports", content=raw,
                         headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["title"] == "Invalid input"


def test_the_report_endpoint_stays_documented(kyiv_client: TestClient) -> None:
    post = kyiv_client.get("/openapi.json").json()["paths"]["/v1/reports"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ReportIn")
    assert "Idempotency-Key" in [p["name"].title() for p in post["parameters"]]
    assert {"201", "422", "429"} <= post["responses"].keys()


def test_an_oversized_report_is_refused_before_it_is_read(kyiv_client: TestClient) -> None:
    r = kyiv_client.post("/v1/reports", content=b"{" + b" " * 100_000 + b"}",
                         headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.headers["content-type"] == "application/problem+json"


def test_private_reporter_details_stay_out_of_the_public_log(
        kyiv_client: TestClient, kyiv_settings: Settings) -> None:
    shelter = kyiv_shelter(kyiv_settings.database_url)
    r = kyiv_client.post("/v1/reports", json={
        "shelter_id": shelter.id, "kind": "locked", "device_id": "secret-device-42",
        "contact": "+380501234567", "note": "my flat is 12", "lat": 50.1234567, "lon": 30.7654321})
    assert r.status_code == 201
    public = kyiv_client.get("/v1/log").text + kyiv_client.get("/v1/pack").text
    for secret in ("secret-device-42", "+380501234567", "my flat", "50.1234567", "30.7654321"):
        assert secret not in public
    with db.reading(kyiv_settings.database_url) as s:
        private = s.execute(select(Fact.private).where(Fact.kind == "observation.recorded")
                            ).scalar_one()
    assert orjson.loads(private)["device_id"] == "secret-device-42"


def test_a_resident_cannot_close_a_shelter_however_often_they_say_it_is_missing(
        kyiv_client: TestClient, kyiv_settings: Settings) -> None:
    shelter = kyiv_shelter(kyiv_settings.database_url)
    for n in range(8):
        kyiv_client.post("/v1/reports", json={"shelter_id": shelter.id, "kind": "missing",
                                              "device_id": f"phone-miss-{n}"})
    kyiv_client.app.state.follower.catch_up()
    shown = kyiv_client.get(f"/v1/shelters/{shelter.id}").json()["properties"]
    assert shown["status"] == "unknown"
    assert "stays on the map" in shown["status_explanation"]["en"]
    assert shelter.id in [s["id"] for s in kyiv_client.get("/v1/pack").json()["shelters"]]


def test_checks_need_a_role_token_and_a_keyholder_only_checks_their_shelters(
        kyiv_client: TestClient, kyiv_settings: Settings) -> None:
    url = kyiv_settings.database_url
    mine, other = kyiv_shelter(url, 0), kyiv_shelter(url, 1)
    keyholder = token(url, "keyholder", (mine.id,))
    assert kyiv_client.post("/v1/checks", json={"shelter_id": mine.id, "kind": "open"}
                            ).status_code == 401
    assert kyiv_client.post("/v1/checks", json={"shelter_id": other.id, "kind": "open"},
                            headers=bearer(keyholder)).status_code == 403
    assert kyiv_client.get("/v1/incidents", headers=bearer(keyholder)).status_code == 403


@pytest.fixture
def strict_client(kyiv_settings: Settings) -> Iterator[TestClient]:
    settings = kyiv_settings.model_copy(update={"reports_per_device_per_hour": 3,
                                                "reports_per_address_per_minute": 5})
    with TestClient(create_app(settings)) as c:
        yield c


def test_one_phone_flooding_reports_is_told_to_wait(
        strict_client: TestClient, kyiv_settings: Settings) -> None:
    shelter = kyiv_shelter(kyiv_settings.database_url)
    codes = [strict_client.post("/v1/reports", json={"shelter_id": shelter.id, "kind": "locked",
                                                     "device_id": "flooding-phone"}).status_code
             for _ in range(4)]
    assert codes == [201, 201, 201, 429]
    r = strict_client.post("/v1/reports", json={"shelter_id": shelter.id, "kind": "locked",
                                                "device_id": "flooding-phone"})
    assert "too many reports from this device" in r.json()["detail"]
    assert int(r.headers["Retry-After"]) > 0
    r = strict_client.post("/v1/reports", json={"shelter_id": shelter.id, "kind": "locked"})
    assert r.status_code == 429 and "network address" in r.json()["detail"]


def test_default_address_limit_lets_a_carrier_grade_nat_through() -> None:
    from shelterwatch.config import Settings as Fresh

    assert Fresh().reports_per_address_per_minute >= 600


def test_the_public_timeline_shows_kyiv_time_beside_utc(kyiv_client: TestClient,
                                                        kyiv_settings: Settings) -> None:
    shelter = kyiv_shelter(kyiv_settings.database_url)
    receipt = kyiv_client.post("/v1/reports", json={"shelter_id": shelter.id, "kind": "full"})
    story = kyiv_client.get(f"/v1/reports/{receipt.json()['tracking_id']}").json()
    utc = datetime.fromisoformat(story["reported_at"])
    local = datetime.fromisoformat(story["reported_at_local"])
    assert local == utc.replace(microsecond=0)  # the same instant …
    assert local.utcoffset() == utc.astimezone(ZoneInfo("Europe/Kyiv")).utcoffset()  # … Kyiv's
    assert all("at_local" in event for event in story["timeline"])


def test_a_report_queued_offline_keeps_the_time_it_was_made_within_the_servers_bounds(
        kyiv_client, kyiv_settings) -> None:
    from datetime import datetime, timedelta

    from shelterwatch.clock import utcnow
    from tests.reports.helpers import kyiv_shelter

    shelter = kyiv_shelter(kyiv_settings.database_url, 7)
    made = utcnow() - timedelta(minutes=20)
    r = kyiv_client.post("/v1/reports", json={"shelter_id": shelter.id, "kind": "full",
                                              "device_id": "phone-made-1",
                                              "made_at": made.isoformat()})
    assert r.status_code == 201, r.text
    story = kyiv_client.get(f"/v1/reports/{r.json()['tracking_id']}").json()
    (mine,) = [e for e in story["timeline"] if e.get("yours")]
    assert mine["made_at"][:16] == made.isoformat()[:16]
    # The story says both: made twenty minutes ago, arrived now.
    arrived = datetime.fromisoformat(mine["at"])
    assert arrived - datetime.fromisoformat(mine["made_at"]) >= timedelta(minutes=19)
    # A phone whose clock runs a day and more behind, or ahead, is held to the bounds.
    future = kyiv_client.post("/v1/reports", json={
        "shelter_id": shelter.id, "kind": "full", "device_id": "phone-made-2",
        "made_at": (utcnow() + timedelta(hours=3)).isoformat()}).json()
    ahead = kyiv_client.get(f"/v1/reports/{future['tracking_id']}").json()
    (mine,) = [e for e in ahead["timeline"] if e.get("yours")]
    assert datetime.fromisoformat(mine["made_at"]) <= datetime.fromisoformat(mine["at"])
    old = kyiv_client.post("/v1/reports", json={
        "shelter_id": shelter.id, "kind": "full", "device_id": "phone-made-3",
        "made_at": (utcnow() - timedelta(days=9)).isoformat()}).json()
    aged = kyiv_client.get(f"/v1/reports/{old['tracking_id']}").json()
    (mine,) = [e for e in aged["timeline"] if e.get("yours")]
    assert datetime.fromisoformat(mine["made_at"]) >= utcnow() - timedelta(days=1, minutes=1)


def test_a_queued_report_is_weighed_by_when_it_was_made_not_when_it_arrived(
        kyiv_client, kyiv_settings) -> None:
    """"Full" seven hours ago, delivered now, is past the six-hour horizon: it says nothing of
    the door tonight. The same report made now does."""
    from datetime import timedelta

    from shelterwatch.clock import utcnow
    from tests.reports.helpers import kyiv_shelter

    stale, fresh = (kyiv_shelter(kyiv_settings.database_url, n) for n in (11, 12))
    r = kyiv_client.post("/v1/reports", json={
        "shelter_id": stale.id, "kind": "full", "device_id": "phone-stale-1",
        "made_at": (utcnow() - timedelta(hours=7)).isoformat()})
    assert r.status_code == 201, r.text
    r = kyiv_client.post("/v1/reports", json={
        "shelter_id": fresh.id, "kind": "full", "device_id": "phone-fresh-1",
        "made_at": (utcnow() - timedelta(minutes=1)).isoformat()})
    assert r.status_code == 201, r.text
    status = {s.id: kyiv_client.get(f"/v1/shelters/{s.id}").json()["properties"]["status"]
              for s in (stale, fresh)}
    assert status == {stale.id: "unknown", fresh.id: "full"}
