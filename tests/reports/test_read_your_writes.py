"""A process that answered 201 shows the new status on its very next read."""

from __future__ import annotations

from fastapi.testclient import TestClient

from shelterwatch.app import create_app
from shelterwatch.config import Settings
from tests.reports.helpers import bearer, kyiv_shelter, token


def test_the_status_after_a_201_is_the_one_the_same_process_shows_next(
        kyiv_settings: Settings) -> None:
    # A follower that would take a minute to notice: only read-your-writes can pass this.
    app = create_app(kyiv_settings.model_copy(update={"follow_interval_s": 60.0}))
    url = kyiv_settings.database_url
    with TestClient(app) as client:
        for n in range(5):
            door = kyiv_shelter(url, n)
            r = client.post("/v1/reports", json={"shelter_id": door.id, "kind": "full",
                                                 "lat": door.lat, "lon": door.lon})
            assert r.status_code == 201, r.text
            shown = client.get(f"/v1/shelters/{door.id}").json()["properties"]
            assert shown["status"] == r.json()["status"] == "full"
        patrol = bearer(token(url, "patrol"))
        door = kyiv_shelter(url, 0)
        r = client.post("/v1/checks", json={"shelter_id": door.id, "kind": "open"},
                        headers=patrol)
        assert r.status_code == 201
        assert client.get(f"/v1/shelters/{door.id}").json()["properties"]["status"] == \
            "open_verified"
