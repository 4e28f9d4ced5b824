"""The operator's "dispatch now": one live task per case, and nothing to send to a closed case."""

from __future__ import annotations

from fastapi.testclient import TestClient

from shelterwatch.config import Settings
from tests.reports.helpers import bearer, kyiv_shelter, token


def open_case(client: TestClient, settings: Settings) -> tuple[str, int]:
    url = settings.database_url
    shelter = kyiv_shelter(url)
    operator = token(url, "operator")
    assert client.post("/v1/alerts", json={"area_id": "31", "type": "air_raid"},
                       headers=bearer(operator)).status_code == 201
    r = client.post("/v1/reports", json={"shelter_id": shelter.id, "kind": "locked",
                                         "device_id": "phone-0001", "lat": shelter.lat,
                                         "lon": shelter.lon})
    assert r.status_code == 201, r.text
    board = client.get("/v1/incidents", headers=bearer(operator)).json()["incidents"]
    return operator, board[0]["id"]


def test_dispatch_now_twice_sends_one_patrol(kyiv_client: TestClient,
                                             kyiv_settings: Settings) -> None:
    operator, incident_id = open_case(kyiv_client, kyiv_settings)
    first = kyiv_client.post(f"/v1/incidents/{incident_id}/dispatch", headers=bearer(operator))
    again = kyiv_client.post(f"/v1/incidents/{incident_id}/dispatch", headers=bearer(operator))
    assert first.status_code == again.status_code == 200, first.text
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["kind"] == "open_locked"


def test_dispatch_to_a_closed_case_is_refused_with_the_reason(kyiv_client: TestClient,
                                                             kyiv_settings: Settings) -> None:
    operator, incident_id = open_case(kyiv_client, kyiv_settings)
    closed = kyiv_client.post(f"/v1/incidents/{incident_id}/false-report",
                              headers=bearer(operator))
    assert closed.status_code == 200, closed.text
    r = kyiv_client.post(f"/v1/incidents/{incident_id}/dispatch", headers=bearer(operator))
    assert r.status_code == 409
    assert "is closed (false_report)" in r.json()["detail"]
