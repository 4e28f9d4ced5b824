"""The public registry API: what a map, a 311 dashboard or a resident's phone reads."""

from __future__ import annotations

import time

import orjson
from fastapi.testclient import TestClient


def test_shelters_page_through_the_whole_kyiv_registry_with_cursors(
        kyiv_client: TestClient) -> None:
    seen: list[int] = []
    url = "/v1/shelters?limit=1000"
    while url:
        body = kyiv_client.get(url).json()
        assert body["type"] == "FeatureCollection"
        seen += [f["properties"]["id"] for f in body["features"]]
        url = f"/v1/shelters?limit=1000&cursor={body['next_cursor']}" if body["next_cursor"] else ""
    assert len(seen) == len(set(seen)) == 3694


def test_bbox_returns_only_shelters_inside_it(kyiv_client: TestClient) -> None:
    body = kyiv_client.get("/v1/shelters?bbox=30.50,50.44,30.53,50.46&limit=1000").json()
    assert body["features"]
    for f in body["features"]:
        lon, lat = f["geometry"]["coordinates"]
        assert 30.50 <= lon <= 30.53 and 50.44 <= lat <= 50.46
        props = f["properties"]
        assert {"id", "name", "address", "kind", "capacity", "step_free", "status"} <= props.keys()


def test_one_shelter_has_a_status_and_an_explanation(kyiv_client: TestClient) -> None:
    first = kyiv_client.get("/v1/shelters?limit=1").json()["features"][0]
    one = kyiv_client.get(f"/v1/shelters/{first['id']}").json()
    assert one["type"] == "Feature"
    assert one["properties"]["status"]
    assert one["properties"]["status_explanation"]["uk"]
    assert one["properties"]["status_explanation"]["en"]


def test_bad_bbox_gets_a_precise_problem(kyiv_client: TestClient) -> None:
    r = kyiv_client.get("/v1/shelters?bbox=30.5,50.4,30.6")
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "4 numbers" in r.json()["detail"]
    r = kyiv_client.get("/v1/shelters?bbox=30.5,95,30.6,96")
    assert "out of range" in r.json()["detail"]
    r = kyiv_client.get("/v1/shelters?cursor=garbage!")
    assert r.status_code == 422 and "cursor" in r.json()["detail"]


def test_unknown_shelter_is_a_404_problem(kyiv_client: TestClient) -> None:
    r = kyiv_client.get("/v1/shelters/999999")
    assert r.status_code == 404
    assert r.json()["detail"] == "shelter 999999 does not exist"


def test_areas_list_oblasts_and_kyiv_districts_with_counts(kyiv_client: TestClient) -> None:
    areas = {a["id"]: a for a in kyiv_client.get("/v1/areas").json()["areas"]}
    assert areas["31"]["name"] == "Київ" and areas["14"]["level"] == "oblast"
    districts = [a for a in areas.values() if a["parent_id"] == "31"]
    assert len(districts) == 10
    assert sum(d["shelters"] for d in districts) == 3694
    desnianskyi = next(d for d in districts if d["name_en"].startswith("Desnianskyi"))
    assert desnianskyi["katottg"] == "UA80000000000336424" and desnianskyi["shelters"] == 285


def test_about_page_says_how_many_shelters_per_district(kyiv_client: TestClient) -> None:
    html = kyiv_client.get("/about").text
    assert "3694" in html
    assert "Деснянський район" in html and "285" in html


def test_openapi_docs_are_served(kyiv_client: TestClient) -> None:
    assert kyiv_client.get("/docs").status_code == 200
    paths = kyiv_client.get("/openapi.json").json()["paths"]
    assert "/v1/shelters" in paths and "/v1/areas" in paths


def test_public_log_serves_facts_after_a_seq(kyiv_client: TestClient) -> None:
    first = kyiv_client.get("/v1/log?limit=10").json()
    assert [f["seq"] for f in first["facts"]] == list(range(1, 11))
    after = kyiv_client.get(f"/v1/log?after={first['next_after']}&limit=5").json()
    assert after["facts"][0]["seq"] == 11
    assert after["facts"][0]["prev_hash"] == first["facts"][-1]["hash"]


def test_a_huge_body_is_refused_before_it_is_read(kyiv_client: TestClient) -> None:
    r = kyiv_client.post("/v1/tokens", content=b"x" * 100_000,
                         headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert orjson.loads(r.content)["detail"].startswith("request body exceeds")


def test_health_says_the_database_answers_and_state_follows_the_log(
        kyiv_client: TestClient) -> None:
    body = kyiv_client.get("/v1/health").json()
    assert body["ok"] is True
    assert body["last_seq"] >= 3694 and body["applied_seq"] <= body["last_seq"]


def test_a_report_shows_in_the_shelters_status_within_a_second(kyiv_client: TestClient) -> None:
    """Every process follows the log (DESIGN §6): the registry's view catches up within a second."""
    first = kyiv_client.get("/v1/shelters?limit=1").json()["features"][0]
    shelter_id = first["id"]
    lon, lat = first["geometry"]["coordinates"]
    for device in ("phone-7777", "phone-8888"):  # two residents at the door
        r = kyiv_client.post("/v1/reports", json={"shelter_id": shelter_id, "kind": "full",
                                                    "device_id": device, "lat": lat, "lon": lon})
        assert r.status_code == 201, r.text
    assert r.json()["status"] == "full"  # the receipt already says so
    deadline = time.monotonic() + 1.0
    while True:
        one = kyiv_client.get(f"/v1/shelters/{shelter_id}").json()["properties"]
        if one["status"] == "full" or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert one["status"] == "full"
    assert "full" in one["status_explanation"]["en"]
    listed = kyiv_client.get("/v1/shelters?limit=1").json()["features"][0]["properties"]
    assert listed["status"] == "full"
