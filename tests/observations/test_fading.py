"""Residents' reports fade with time; the worker notices, and the API, pack and log follow."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from shelterwatch import db
from shelterwatch.cli.main import app as cli
from shelterwatch.clock import utcnow
from shelterwatch.log import service as log
from tests.escalation.support import wait_for
from tests.reports.helpers import kyiv_shelter
from tests.support.worker import derived_tables, facts, running, worker_settings

# The worker runs three times over shifted clocks.
pytestmark = pytest.mark.slow


def test_a_lone_locked_report_fades_and_every_view_follows(kyiv_client: TestClient,
                                                             kyiv_settings) -> None:
    url = kyiv_settings.database_url
    door = kyiv_shelter(url, 0)
    with db.reading(url) as s:
        start = log.last_seq(s)
    r = kyiv_client.post("/v1/reports", json={"shelter_id": door.id, "kind": "locked",
                                              "device_id": "resident-phone-1",
                                              "lat": door.lat, "lon": door.lon})
    assert r.status_code == 201 and r.json()["status"] == "locked_reported"

    def status() -> str:
        return kyiv_client.get(f"/v1/shelters/{door.id}").json()["properties"]["status"]

    wait_for(lambda: status() == "locked_reported", what="the report's status served")
    etag = kyiv_client.get("/v1/pack").headers["etag"]
    settings = worker_settings(kyiv_settings)

    with running(settings, clock=lambda: utcnow() + timedelta(minutes=10)) as worker:
        wait_for(lambda: worker.refresh_passes >= 1, what="the worker let ten minutes pass")
    assert [f for f in facts(url, "status.changed") if f["trigger"] == "refresh"] == []

    three_hours_on = lambda: utcnow() + timedelta(hours=3)  # noqa: E731
    with running(settings, clock=three_hours_on):
        wait_for(lambda: status() == "unknown", what="the report faded")
    with running(settings, clock=three_hours_on) as worker:  # again: nothing new to say
        wait_for(lambda: worker.refresh_passes >= 1, what="the worker looked again")
    refreshed = [f for f in facts(url, "status.changed") if f["trigger"] == "refresh"]
    assert [(f["shelter_id"], f["previous"], f["status"]) for f in refreshed] == [
        (door.id, "locked_reported", "unknown")]
    # The fact records why as a code; the words are the catalogue's, at the edge.
    assert refreshed[0]["reasons"] == [{"code": "reports_too_weak"}]

    shelter = kyiv_client.get(f"/v1/shelters/{door.id}").json()["properties"]
    assert "too weak" in shelter["status_explanation"]["en"]
    wait_for(lambda: kyiv_client.get("/v1/pack").headers["etag"] != etag,
             what="the offline pack rebuilt")
    public = kyiv_client.get("/v1/log", params={"after": start}).json()["facts"]
    assert [f["kind"] for f in public].count("status.changed") == 2  # what the stream sends

    live = derived_tables(url)
    assert CliRunner().invoke(cli, ["rebuild"]).exit_code == 0
    assert derived_tables(url) == live
