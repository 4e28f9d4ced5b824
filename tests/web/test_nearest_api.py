"""A resident asks `/v1/nearest` where to go, over the real Kyiv registry."""

from __future__ import annotations

import random

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from shelterwatch import db
from shelterwatch.clock import utcnow
from shelterwatch.config import Settings
from shelterwatch.log import service as log
from shelterwatch.rules.geo import great_circle_m
from shelterwatch.shelters.models import Shelter

MAIDAN = (50.4501, 30.5234)


def _all_points(settings: Settings) -> list[tuple[int, float, float]]:
    with db.reading(settings.database_url) as s:
        return [tuple(r) for r in s.execute(select(Shelter.id, Shelter.lat, Shelter.lon))]


def test_nearest_agrees_with_brute_force_great_circle_ranking_over_kyiv(
    kyiv_client: TestClient, kyiv_settings: Settings
) -> None:
    points = _all_points(kyiv_settings)
    assert len(points) > 3000
    rng = random.Random(5)
    for _ in range(60):
        lat, lon = rng.uniform(50.35, 50.55), rng.uniform(30.35, 30.75)
        body = kyiv_client.get("/v1/nearest", params={"lat": lat, "lon": lon,
                                                      "limit": 5}).json()
        brute = sorted((great_circle_m(lat, lon, la, lo), sid) for sid, la, lo in points)[:5]
        got = [(r["distance_m"], r["shelter"]["id"]) for r in body["results"]]
        assert [sid for _, sid in got] == [sid for _, sid in brute] or all(
            abs(a[0] - b[0]) < 0.1 for a, b in zip(got, brute, strict=True))
        for (d, _), (bd, _) in zip(got, brute, strict=True):
            assert d == pytest.approx(bd, abs=0.06)


def test_nearest_answers_with_features_walk_times_and_reasons(kyiv_client: TestClient) -> None:
    response = kyiv_client.get("/v1/nearest", params={"lat": MAIDAN[0], "lon": MAIDAN[1]})
    assert response.status_code == 200
    body = response.json()
    assert body["alert"] is None
    assert len(body["results"]) == 3
    first = body["results"][0]
    assert first["shelter"]["type"] == "Feature"
    assert first["shelter"]["properties"]["status"] == "unknown" == first["status"]
    assert "owner" not in first["shelter"]["properties"]
    assert first["reachable_in_time"] is None
    assert first["walk_s"] == round(first["distance_m"] * 1.3 / 1.3)
    assert "хв пішки" in first["why"]["uk"] and "min walk" in first["why"]["en"]


def test_a_named_threat_says_whether_each_shelter_is_reachable_in_time(
    kyiv_client: TestClient,
) -> None:
    body = kyiv_client.get("/v1/nearest", params={
        "lat": MAIDAN[0], "lon": MAIDAN[1], "threat": "ballistic"}).json()
    assert all(r["reachable_in_time"] == (r["walk_s"] <= 120) for r in body["results"])


def test_an_alert_on_kyiv_appears_with_its_warning_time(
    kyiv_client: TestClient, kyiv_settings: Settings
) -> None:
    from shelterwatch.alerts import service as alerts
    from shelterwatch.vocabulary import AlertType, Threat

    now = utcnow()
    with db.transaction(kyiv_settings.database_url) as s:
        alerts.start(s, area_id="31", type=AlertType.AIR_RAID, threat=Threat.CRUISE,
                     started_at=now, source="test", actor="test", now=now)
    kyiv_client.app.state.follower.catch_up()
    body = kyiv_client.get("/v1/nearest", params={"lat": MAIDAN[0], "lon": MAIDAN[1]}).json()
    assert body["alert"]["area_id"] == "31"
    assert body["alert"]["threat"] == "cruise" and body["alert"]["warning_s"] == 600
    assert all(r["reachable_in_time"] is not None for r in body["results"])


def test_a_status_change_reranks_without_a_restart(
    kyiv_client: TestClient, kyiv_settings: Settings
) -> None:
    before = kyiv_client.get("/v1/nearest", params={"lat": MAIDAN[0], "lon": MAIDAN[1]}).json()
    first, second = (r["shelter"]["id"] for r in before["results"][:2])
    with db.transaction(kyiv_settings.database_url) as s:
        log.append(s, kind="status.changed", actor="test", now=utcnow(),
                   payload={"shelter_id": first, "status": "locked_reported"})
        log.append(s, kind="status.changed", actor="test", now=utcnow(),
                   payload={"shelter_id": second, "status": "open_verified"})
    kyiv_client.app.state.follower.catch_up()
    after = kyiv_client.get("/v1/nearest", params={"lat": MAIDAN[0], "lon": MAIDAN[1]}).json()
    assert after["results"][0]["shelter"]["id"] == second
    assert after["results"][0]["status"] == "open_verified"
    assert first not in [r["shelter"]["id"] for r in after["results"][:2]]


@pytest.mark.parametrize(
    ("params", "word"),
    [
        ({"lon": "30.5"}, "lat"),
        ({"lat": "91", "lon": "30.5"}, "lat"),
        ({"lat": "50.4", "lon": "east"}, "lon"),
        ({"lat": "50.4", "lon": "30.5", "limit": "0"}, "limit"),
        ({"lat": "50.4", "lon": "30.5", "step_free": "maybe"}, "step_free"),
        ({"lat": "50.4", "lon": "30.5", "threat": "meteor"}, "threat"),
    ],
)
def test_a_bad_question_gets_a_problem_saying_what_is_wrong(
    kyiv_client: TestClient, params: dict[str, str], word: str
) -> None:
    response = kyiv_client.get("/v1/nearest", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert word in response.json()["detail"]


def test_nearest_is_documented_in_openapi(kyiv_client: TestClient) -> None:
    paths = kyiv_client.get("/openapi.json").json()["paths"]
    assert "lat" in {p["name"] for p in paths["/v1/nearest"]["get"]["parameters"]}
