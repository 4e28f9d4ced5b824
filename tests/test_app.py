"""The API process's state: one status projection, read by every answer."""

from __future__ import annotations

from fastapi.testclient import TestClient

from shelterwatch.config import Settings
from tests.reports.helpers import kyiv_shelter


def test_a_report_moves_the_one_status_every_answer_reads(kyiv_client: TestClient,
                                                          kyiv_settings: Settings) -> None:
    state = kyiv_client.app.state  # type: ignore[attr-defined]
    assert state.shelter_index.statuses is state.status_board.statuses
    shelter = kyiv_shelter(kyiv_settings.database_url)
    response = kyiv_client.post("/v1/reports", json={"shelter_id": shelter.id, "kind": "open",
                                                     "device_id": "phone-0001"})
    assert response.status_code == 201
    assert state.status_board.statuses[shelter.id] == "open_reported"
    assert state.status_board.get(shelter.id)["status"] == "open_reported"
    near = kyiv_client.get("/v1/nearest", params={"lat": shelter.lat, "lon": shelter.lon}).json()
    assert next(r for r in near["results"] if r["shelter"]["id"] == shelter.id
                )["status"] == "open_reported"
