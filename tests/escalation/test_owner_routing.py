"""Outside an alert a locked door is the owner's to answer for (DESIGN §4.6)."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from shelterwatch import db
from shelterwatch.clock import utcnow
from shelterwatch.keyholders import service as keyholders
from tests.escalation.support import wait_for
from tests.notify.receivers import http_receiver, smtp_server
from tests.reports.helpers import bearer, kyiv_shelter, token
from tests.support.worker import running, worker_settings


def test_locked_report_outside_an_alert_goes_to_the_owner_and_counts_against_them(
        kyiv_client: TestClient, kyiv_settings) -> None:
    url = kyiv_settings.database_url
    door = kyiv_shelter(url, 0)
    operator = token(url, "operator")
    with smtp_server() as mailbox, http_receiver() as hooks:
        with db.transaction(url) as s:
            keyholders.create_owner(s, contact=keyholders.ContactIn(
                name="District housing office", email="owner@example.invalid",
                webhook=hooks.url + "/owner"), shelter_ids=[door.id], now=utcnow(), actor="test")
        settings = worker_settings(kyiv_settings, smtp_url=mailbox.url)

        def report(device: str) -> dict:
            r = kyiv_client.post("/v1/reports", json={
                "shelter_id": door.id, "kind": "locked", "device_id": device,
                "lat": door.lat, "lon": door.lon})
            assert r.status_code == 201, r.text
            return r.json()

        with running(settings):
            first = report("resident-phone-1")
            assert first["routed_to"] == "owner" and first["incident"] is None
            wait_for(lambda: hooks.requests and mailbox.messages, what="the owner told")
        (hook,) = hooks.requests
        assert hook.path == "/owner" and hook.json()["observation"] == first["tracking_id"]
        (mail,) = mailbox.messages
        assert mail["to"] == ["owner@example.invalid"]
        assert first["tracking_id"] in mail["subject"] and "counts against" in mail["body"]

        second = report("resident-phone-2")  # while no worker runs
        with running(settings):
            wait_for(lambda: len(hooks.requests) == 2, what="the owner told after a restart")
            time.sleep(0.3)
        assert [r.json()["observation"] for r in hooks.requests] == [
            first["tracking_id"], second["tracking_id"]]
        assert len(mailbox.messages) == 2

    board = kyiv_client.get("/v1/incidents", headers=bearer(operator))
    assert board.status_code == 200 and board.json()["incidents"] == []
    (owner,) = kyiv_client.get("/v1/owners", headers=bearer(operator)).json()["owners"]
    assert owner["shelter_ids"] == [door.id]
    assert (owner["reports_against"], owner["incidents"]) == (2, 0)
    story = kyiv_client.get(first["follow"]).json()
    assert story["routed_to"] == "owner" and story["incident"] is None
    assert kyiv_client.get("/v1/owners").status_code == 401
