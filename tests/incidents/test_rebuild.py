"""`shelterwatch rebuild` reproduces the live statuses and incidents from the log alone."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from shelterwatch import db
from shelterwatch.cli.main import app as cli
from shelterwatch.clock import utcnow
from shelterwatch.config import Settings
from shelterwatch.incidents.models import Incident
from shelterwatch.observations.models import Observation, PlaceReport, ShelterStatus
from tests.reports.helpers import bearer, kyiv_shelter, token


def _tables(url: str) -> dict[str, list[tuple[Any, ...]]]:
    def rows(model: Any, order: Any) -> list[tuple[Any, ...]]:
        cols = list(model.__table__.columns)
        with db.reading(url) as s:
            return [tuple(r) for r in s.execute(select(*cols).order_by(order)).all()]

    return {"observations": rows(Observation, Observation.id),
            "statuses": rows(ShelterStatus, ShelterStatus.shelter_id),
            "incidents": rows(Incident, Incident.id),
            "places": rows(PlaceReport, PlaceReport.id)}


def test_rebuild_from_the_log_equals_the_live_state(
        kyiv_client: TestClient, kyiv_settings: Settings) -> None:
    url = kyiv_settings.database_url
    shelters = [kyiv_shelter(url, i) for i in range(4)]
    operator = token(url, "operator")
    roles = {"keyholder": token(url, "keyholder", tuple(s.id for s in shelters)),
             "patrol": token(url, "patrol"), "auditor": token(url, "auditor")}
    rnd = random.Random(7)
    alert = None
    for step in range(60):
        if step in (10, 40):
            alert = kyiv_client.post("/v1/alerts", json={"area_id": "31"},
                                     headers=bearer(operator)).json()["id"]
        if step == 30 and alert is not None:
            kyiv_client.post(f"/v1/alerts/{alert}/end", json={}, headers=bearer(operator))
        shelter = rnd.choice(shelters)
        if rnd.random() < 0.25:
            role = rnd.choice(list(roles))
            kind = rnd.choice(["open", "locked", "forced_open", "full"])
            r = kyiv_client.post("/v1/checks", headers=bearer(roles[role]),
                                 json={"shelter_id": shelter.id, "kind": kind})
        else:
            kind = rnd.choice(["locked", "locked", "open", "full", "missing"])
            body: dict[str, Any] = {"shelter_id": shelter.id, "kind": kind,
                                    "device_id": f"device-{rnd.randrange(6):03d}"}
            if rnd.random() < 0.7:
                body |= {"lat": shelter.lat + rnd.uniform(-0.01, 0.01), "lon": shelter.lon}
            if rnd.random() < 0.3:  # queued offline: observed when made, in the rebuild too
                made = utcnow() - timedelta(minutes=rnd.uniform(1, 600))
                body["made_at"] = made.isoformat()
            r = kyiv_client.post("/v1/reports", json=body)
        assert r.status_code == 201, r.text
    kyiv_client.post("/open311/v2/requests.json",
                     data={"service_code": "no_shelter_nearby", "lat": "50.45", "long": "30.52"})
    live = _tables(url)
    assert live["incidents"] and live["places"] and len(live["observations"]) == 60

    outcome = CliRunner().invoke(cli, ["rebuild"])
    assert outcome.exit_code == 0, outcome.output
    assert "60 observations" in outcome.output
    assert _tables(url) == live
