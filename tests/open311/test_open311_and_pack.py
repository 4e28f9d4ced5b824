"""Existing 311 clients file reports unchanged; phones keep the offline pack fresh cheaply."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from fastapi.testclient import TestClient

from shelterwatch.config import Settings
from tests.reports.helpers import bearer, kyiv_shelter, token


def test_open311_client_lists_services_in_json_and_xml(kyiv_client: TestClient) -> None:
    codes = [s["service_code"] for s in kyiv_client.get("/open311/v2/services.json").json()]
    assert codes == ["shelter_locked", "shelter_full", "shelter_unfit", "shelter_missing",
                     "shelter_open", "no_shelter_nearby", "shelter_refused"]
    xml = ET.fromstring(kyiv_client.get("/open311/v2/services.xml").content)
    assert xml.tag == "services"
    assert [e.findtext("service_code") for e in xml.findall("service")] == codes


def test_open311_request_is_a_report_followed_by_its_tracking_id(
        kyiv_client: TestClient, kyiv_settings: Settings) -> None:
    url = kyiv_settings.database_url
    shelter = kyiv_shelter(url)
    kyiv_client.post("/v1/alerts", json={"area_id": "31"}, headers=bearer(token(url, "operator")))
    created = kyiv_client.post("/open311/v2/requests.json", data={
        "service_code": "shelter_locked", "lat": str(shelter.lat), "long": str(shelter.lon),
        "email": "resident@example.org", "description": "chain on the door"})
    assert created.status_code == 201, created.text
    [receipt] = created.json()
    tid = receipt["service_request_id"]
    assert "Case" in receipt["service_notice"]

    [one] = kyiv_client.get(f"/open311/v2/requests/{tid}.json").json()
    assert one["status"] == "open" and one["service_code"] == "shelter_locked"
    assert one["address_id"] == str(shelter.id)
    assert "resident@example.org" not in str(one) and "chain" not in str(one)
    timeline = kyiv_client.get(f"/v1/reports/{tid}").json()
    assert timeline["incident"]["tracking_id"] == tid

    xml = ET.fromstring(kyiv_client.get(f"/open311/v2/requests.xml?service_request_id={tid}")
                        .content)
    assert xml.tag == "service_requests"
    assert xml.find("request").findtext("service_request_id") == tid
    assert kyiv_client.get("/open311/v2/requests.json?status=open").json()[0][
        "service_request_id"] == tid


def test_open311_errors_come_in_its_own_shape(kyiv_client: TestClient) -> None:
    r = kyiv_client.post("/open311/v2/requests.json", data={"service_code": "pothole"})
    assert r.status_code == 422
    assert "pothole" in r.json()[0]["description"]
    missing = kyiv_client.get("/open311/v2/requests/KV-0000-00.xml")
    assert missing.status_code == 404
    assert ET.fromstring(missing.content).find("error").findtext("code") == "404"


def test_no_shelter_nearby_is_kept_for_coverage_without_the_precise_spot(
        kyiv_client: TestClient) -> None:
    r = kyiv_client.post("/open311/v2/requests.json", data={
        "service_code": "no_shelter_nearby", "lat": "50.4012345", "long": "30.6012345"})
    assert r.status_code == 201, r.text
    tid = r.json()[0]["service_request_id"]
    [one] = kyiv_client.get(f"/open311/v2/requests/{tid}.json").json()
    assert (one["lat"], one["long"]) == (50.401, 30.601)
    assert "50.4012345" not in kyiv_client.get("/v1/log").text


def test_pack_etag_changes_exactly_when_its_content_does(
        kyiv_client: TestClient, kyiv_settings: Settings) -> None:
    shelter = kyiv_shelter(kyiv_settings.database_url)
    first = kyiv_client.get("/v1/pack")
    assert first.status_code == 200
    etag = first.headers["etag"]
    pack = first.json()
    assert len(pack["shelters"]) > 3000
    assert "owner" not in pack["shelters"][0]
    assert kyiv_client.get("/v1/pack", headers={"If-None-Match": etag}).status_code == 304

    # A fact that touches no shelter's status leaves the pack as it was.
    token(kyiv_settings.database_url, "patrol")
    kyiv_client.app.state.follower.catch_up()
    assert kyiv_client.get("/v1/pack", headers={"If-None-Match": etag}).status_code == 304

    kyiv_client.post("/v1/reports", json={"shelter_id": shelter.id, "kind": "full",
                                          "device_id": "phone-pack-1"})
    kyiv_client.app.state.follower.catch_up()
    changed = kyiv_client.get("/v1/pack", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    entry = next(s for s in changed.json()["shelters"] if s["id"] == shelter.id)
    assert entry["status"] == "full"
    gz = kyiv_client.get("/v1/pack", headers={"Accept-Encoding": "gzip"})
    assert gz.headers["etag"] == changed.headers["etag"]


def test_the_pack_carries_the_alerts_in_force_so_a_phone_offline_knows_of_them(
        kyiv_client: TestClient, kyiv_settings: Settings) -> None:
    url = kyiv_settings.database_url
    calm = kyiv_client.get("/v1/pack").json()
    assert calm["alerts"] == [] and calm["generated_at"]
    started = kyiv_client.post("/v1/alerts", json={"area_id": "31", "type": "air_raid",
                                                   "threat": "ballistic"},
                               headers=bearer(token(url, "operator")))
    kyiv_client.app.state.follower.catch_up()
    pack = kyiv_client.get("/v1/pack").json()
    (alert,) = pack["alerts"]
    assert alert["id"] == started.json()["id"] and alert["started_at"]
    assert alert["warning_s"] == 120 and alert["threat"] == "ballistic"
    # The phone can walk from a shelter's district up to the alerted city.
    area, chain = pack["shelters"][0]["area_id"], []
    while area is not None:
        chain.append(area)
        area = pack["area_parents"].get(area)
    assert "31" in chain
    assert pack["generated_at"] >= calm["generated_at"]
