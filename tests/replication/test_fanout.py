"""A fact written through one API node reaches every other node: its SSE clients and answers.

The nodes share nothing but the database: each follows the fact log, woken by LISTEN/NOTIFY on
PostgreSQL (bench/fanout.py measures it against NATS JetStream), polling on SQLite.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import httpx
import pytest

from shelterwatch.config import Settings
from tests.reports.helpers import bearer, kyiv_shelter, token
from tests.support.server import LiveServer
from tests.support.sse import LiveEvents


@pytest.mark.slow
def test_a_locked_door_reported_on_node_a_reaches_node_b_stream_and_map(
        kyiv_settings: Settings, live_server: Callable[..., LiveServer]) -> None:
    a, b = live_server(), live_server()
    url = kyiv_settings.database_url
    shelter = kyiv_shelter(url)
    watcher = LiveEvents(b.url)
    try:
        assert httpx.post(f"{a.url}/v1/alerts", json={"area_id": "31", "type": "air_raid"},
                          headers=bearer(token(url, "operator"))).status_code == 201
        sent = time.monotonic()
        receipt = httpx.post(f"{a.url}/v1/reports", json={
            "shelter_id": shelter.id, "kind": "locked", "lat": shelter.lat,
            "lon": shelter.lon}, timeout=15)
        assert receipt.status_code == 201, receipt.text

        alert = watcher.first("alert.started")
        status = watcher.first("status.changed")
        incident = watcher.first("incident.opened")
    finally:
        watcher.stop.set()
    assert alert is not None and status is not None and incident is not None, \
        [e[1]["kind"] for e in watcher.events]
    assert status[1]["shelter_id"] == shelter.id
    assert status[1]["status"] == "locked_reported"
    assert receipt.json()["tracking_id"] in json.dumps(incident[1])
    print(f"\nnode A's report on node B's stream {1000 * (status[0] - sent):.0f} ms after "
          "it was sent")

    # … and node B's own answers know it: the map and the active alerts
    d = 0.001
    bbox = f"{shelter.lon - d},{shelter.lat - d},{shelter.lon + d},{shelter.lat + d}"
    features = httpx.get(f"{b.url}/v1/shelters", params={"bbox": bbox}).json()["features"]
    mine = [f for f in features if f["properties"]["id"] == shelter.id]
    assert mine and mine[0]["properties"]["status"] == "locked_reported"
    active = httpx.get(f"{b.url}/v1/alerts/active").json()["alerts"]
    assert [x["area_id"] for x in active] == ["31"]
