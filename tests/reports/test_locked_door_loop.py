"""The loop through the API: alert, keyholder's check-in, residents at a locked door, rescuers."""

from __future__ import annotations

from fastapi.testclient import TestClient

from shelterwatch.config import Settings
from tests.reports.helpers import bearer, kyiv_shelter, token
from tests.support.devices import issued_device


def test_locked_door_during_alert_opens_a_case_that_rescuers_close(
        kyiv_client: TestClient, kyiv_settings: Settings) -> None:
    url = kyiv_settings.database_url
    shelter = kyiv_shelter(url)
    operator, patrol = token(url, "operator"), token(url, "patrol")
    keyholder = token(url, "keyholder", (shelter.id,))
    near = {"lat": shelter.lat + 0.0001, "lon": shelter.lon}

    started = kyiv_client.post("/v1/alerts", json={"area_id": "31", "type": "air_raid"},
                               headers=bearer(operator))
    assert started.status_code == 201, started.text

    check = kyiv_client.post("/v1/checks", json={"shelter_id": shelter.id, "kind": "open"},
                             headers=bearer(keyholder))
    assert check.status_code == 201, check.text
    assert check.json()["status"] == "open_verified"
    assert "keyholder recorded open" in check.json()["status_explanation"]["en"]
    assert "ключник" in check.json()["status_explanation"]["uk"]

    receipts = []
    phones = [issued_device(kyiv_client) for _ in range(3)]
    for phone in phones:
        r = kyiv_client.post("/v1/reports", json={"shelter_id": shelter.id, "kind": "locked",
                                                  "device_id": phone, **near})
        assert r.status_code == 201, r.text
        receipts.append(r.json())
    first, second, third = receipts
    case = first["incident"]["tracking_id"]
    assert case == first["tracking_id"]
    assert first["status"] == "open_verified"  # one voice does not overturn the keyholder …
    assert "1 resident reported locked" in first["status_explanation"]["en"]
    assert f"Case {case} is open" in first["next_steps"]["en"]
    assert "Don't wait at the door" in first["next_steps"]["en"]
    assert second["incident"] == {"tracking_id": case, "me_too": 1, "state": "open"}
    assert third["status"] == "locked_confirmed"  # … three at the door do
    assert "3 residents reported locked" in third["status_explanation"]["en"]
    assert "outweighs the earlier keyholder recorded open" in third["status_explanation"]["en"]

    board = kyiv_client.get("/v1/incidents", headers=bearer(operator)).json()["incidents"]
    assert [(i["tracking_id"], i["me_too"], i["state"]) for i in board] == [(case, 2, "open")]

    forced = kyiv_client.post("/v1/checks", headers=bearer(patrol),
                              json={"shelter_id": shelter.id, "kind": "forced_open"})
    assert forced.status_code == 201, forced.text
    assert forced.json()["status"] == "forced_open"
    assert forced.json()["incident"]["resolution"] == "forced_open"

    story = kyiv_client.get(f"/v1/reports/{second['tracking_id'].lower()}").json()
    assert story["status"]["status"] == "forced_open"
    assert "patrol recorded forced open" in story["status"]["explanation"]["en"]
    assert story["incident"]["state"] == "resolved"
    assert story["incident"]["resolution"] == "forced_open"
    events = [(e["event"], e.get("kind"), e.get("yours")) for e in story["timeline"]]
    assert events == [
        ("observation", "locked", False), ("incident.opened", None, None),
        ("observation", "locked", True), ("observation", "locked", False),
        ("observation", "forced_open", False), ("incident.resolved", None, None)]
    public = kyiv_client.get(f"/v1/reports/{case}").text
    assert phones[0] not in public and str(near["lat"]) not in public
    kyiv_client.app.state.follower.catch_up()  # what every process does within a second
    shown = kyiv_client.get(f"/v1/shelters/{shelter.id}").json()["properties"]
    assert shown["status"] == "forced_open"


def test_locked_report_outside_an_alert_goes_to_the_owner_without_a_case(
        kyiv_client: TestClient, kyiv_settings: Settings) -> None:
    shelter = kyiv_shelter(kyiv_settings.database_url, offset=1)
    r = kyiv_client.post("/v1/reports", json={"shelter_id": shelter.id, "kind": "locked"})
    assert r.status_code == 201, r.text
    assert r.json()["incident"] is None
    assert r.json()["routed_to"] == "owner"
    assert "no alert now" in r.json()["next_steps"]["en"]
    story = kyiv_client.get(f"/v1/reports/{r.json()['tracking_id']}").json()
    assert [e["event"] for e in story["timeline"]] == ["observation", "routed"]
