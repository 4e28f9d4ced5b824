"""A flood of weak cases cannot starve a real one: dispatch tasks come strongest evidence first."""

from __future__ import annotations

from fastapi.testclient import TestClient

from shelterwatch.config import Settings
from tests.reports.helpers import bearer, kyiv_shelter, token
from tests.support.devices import issued_device


def test_a_confirmed_door_comes_before_a_flood_of_single_reports(
        kyiv_client: TestClient, kyiv_settings: Settings) -> None:
    url = kyiv_settings.database_url
    operator = bearer(token(url, "operator"))
    unit = kyiv_client.post("/v1/patrols", json={"name": "Unit 1"}, headers=operator)
    assert unit.status_code == 201, unit.text
    assert kyiv_client.post("/v1/alerts", json={"area_id": "31", "type": "air_raid"},
                            headers=operator).status_code == 201
    weak = [kyiv_shelter(url, n) for n in range(4)]
    for n, door in enumerate(weak):  # one network's word each, sent first
        one = TestClient(kyiv_client.app, client=(f"198.51.100.{n + 1}", 4000))
        assert one.post("/v1/reports", json={"shelter_id": door.id, "kind": "locked",
                                             "lat": door.lat, "lon": door.lon}).status_code == 201
    strong = kyiv_shelter(url, 10)
    for n in range(3):
        phone = TestClient(kyiv_client.app, client=(f"203.0.113.{n + 1}", 4000))
        r = phone.post("/v1/reports", json={"shelter_id": strong.id, "kind": "locked",
                                            "device_id": issued_device(phone),
                                            "lat": strong.lat, "lon": strong.lon})
        assert r.status_code == 201
    assert r.json()["status"] == "locked_confirmed"
    board = kyiv_client.get("/v1/incidents", headers=operator).json()["incidents"]
    for case in sorted(board, key=lambda c: c["id"]):  # in the order the cases came in
        assert kyiv_client.post(f"/v1/incidents/{case['id']}/dispatch",
                                headers=operator).status_code == 200
    tasks = kyiv_client.get("/v1/tasks", headers=bearer(unit.json()["token"])).json()["tasks"]
    dispatch = [t for t in tasks if t["kind"] == "open_locked"]
    assert len(dispatch) == 5
    assert dispatch[0]["shelter_id"] == strong.id
