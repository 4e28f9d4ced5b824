"""A fact written through one API node reaches every other node: its SSE clients and answers.

The nodes share nothing but the database: each follows the fact log, woken by LISTEN/NOTIFY on
PostgreSQL (bench/fanout.py measures it against NATS JetStream), polling on SQLite.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

import httpx
import pytest

from shelterwatch.config import Settings
from tests.reports.helpers import bearer, kyiv_shelter, token
from tests.support.server import LiveServer


class LiveEvents:
    """An SSE client of one node, reading in the background from the moment it is connected."""

    def __init__(self, base: str) -> None:
        self.events: list[tuple[float, dict]] = []
        self.connected = threading.Event()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._read, args=(base,), daemon=True)
        self.thread.start()
        assert self.connected.wait(15), "the stream never connected"

    def _read(self, base: str) -> None:
        try:
            self._follow(base)
        except httpx.HTTPError:  # the node stopped at the test's end
            pass

    def _follow(self, base: str) -> None:
        current: dict = {}
        with httpx.stream("GET", f"{base}/v1/stream", timeout=30) as response:
            for line in response.iter_lines():
                if line == ": connected":
                    self.connected.set()
                elif line.startswith(("event:", "data:")):
                    key, _, value = line.partition(":")
                    current[key] = value.strip()
                elif not line and "data" in current:
                    self.events.append((time.monotonic(), {"event": current["event"],
                                                           **json.loads(current["data"])}))
                    current = {}
                if self.stop.is_set():
                    return

    def first(self, kind: str, timeout_s: float = 10.0) -> tuple[float, dict] | None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = [e for e in self.events if e[1]["kind"] == kind]
            if found:
                return found[0]
            time.sleep(0.02)
        return None


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
