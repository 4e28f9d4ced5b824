"""`GET /v1/stream`: live status and incident events, and a reconnecting client misses nothing.

Each test runs twice: against the API's own route (`shelterwatch serve` on a single node) and
against the stream server (`shelterwatch stream`) beside the API, as a city deploys it."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from shelterwatch.config import Settings, get_settings
from tests.reports.helpers import bearer, kyiv_shelter, token
from tests.support.metrics import figure
from tests.support.server import LiveServer, ServeNode, StreamNode

# A live server and long-lived event streams.
pytestmark = pytest.mark.slow

Streams = Callable[..., tuple[LiveServer, LiveServer]]


@pytest.fixture(params=["api route", "serve", "stream server"])
def streams(request: pytest.FixtureRequest, live_server: Callable[..., LiveServer],
            tmp_path: Path) -> Iterator[Streams]:
    """Start an API node and what serves its stream: (the API, the stream's server). The API
    route is the ASGI one (`uvicorn shelterwatch.asgi:app`); `shelterwatch serve` hands the
    stream to the stream server's protocol on its own port; the stream server is its own
    process beside the API."""
    nodes: list[LiveServer] = []

    def start(**env: str) -> tuple[LiveServer, LiveServer]:
        if request.param == "serve":
            api: LiveServer = ServeNode({"DATABASE_URL": get_settings().database_url,
                                         "SHELTERWATCH_FOLLOW_INTERVAL_S": "0.1", **env},
                                        tmp_path / "serve.log")
            nodes.append(api)
            return api.start(), api
        api = live_server(**env)
        if request.param == "api route":
            return api, api
        node = StreamNode(api.env, tmp_path / "stream.log")
        nodes.append(node)
        return api, node.start()

    yield start
    for node in nodes:
        node.stop()


def read_events(url: str, *, last_event_id: str | None, until: Callable[[dict], bool],
                limit: int = 200) -> list[dict]:
    """Events as {id, event, data} until `until` says stop."""
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    events, current = [], {}
    with httpx.stream("GET", f"{url}/v1/stream", headers=headers, timeout=15) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith(("id:", "event:", "data:")):
                key, _, value = line.partition(":")
                current[key] = value.strip()
            elif not line and "data" in current:
                current["data"] = json.loads(current["data"])
                events.append(current)
                if until(current) or len(events) >= limit:
                    return events
                current = {}
    return events


def test_status_and_incident_events_stream_and_resume_from_last_event_id(
        kyiv_settings: Settings, streams: Streams) -> None:
    server, streamer = streams()
    url = kyiv_settings.database_url
    shelter = kyiv_shelter(url)
    operator = token(url, "operator")
    assert httpx.post(f"{server.url}/v1/alerts", json={"area_id": "31", "type": "air_raid"},
                      headers=bearer(operator)).status_code == 201
    first = httpx.post(f"{server.url}/v1/reports", json={
        "shelter_id": shelter.id, "kind": "locked", "device_id": "phone-0001",
        "lat": shelter.lat, "lon": shelter.lon}).json()

    seen = read_events(streamer.url, last_event_id="0",
                       until=lambda e: e["event"] == "incident")
    kinds = [(e["event"], e["data"]["kind"]) for e in seen]
    assert ("alert", "alert.started") in kinds
    assert ("status", "status.changed") in kinds
    assert kinds[-1] == ("incident", "incident.opened")
    status = next(e for e in seen if e["event"] == "status")
    assert status["data"]["shelter_id"] == shelter.id
    assert status["data"]["status"] == "locked_reported"
    # Private fields never travel on the public stream.
    assert "phone-0001" not in json.dumps(seen)
    assert first["tracking_id"] in json.dumps(seen)

    # A client that saw everything up to the incident reconnects and gets only what came after.
    last = seen[-1]["id"]
    httpx.post(f"{server.url}/v1/checks", headers=bearer(token(url, "patrol")),
               json={"shelter_id": shelter.id, "kind": "forced_open"}).raise_for_status()
    resumed = read_events(streamer.url, last_event_id=last,
                          until=lambda e: e["data"]["kind"] == "incident.resolved")
    assert all(int(e["id"]) > int(last) for e in resumed)
    assert any(e["data"].get("status") == "forced_open" for e in resumed)


def test_one_address_holds_only_so_many_open_streams(settings: Settings, streams: Streams) -> None:
    _, server = streams(SHELTERWATCH_STREAM_CONNECTIONS_PER_ADDRESS="2")
    with httpx.Client(timeout=10) as a, httpx.Client(timeout=10) as b, \
            httpx.Client(timeout=10) as c:
        with a.stream("GET", f"{server.url}/v1/stream") as first, \
                b.stream("GET", f"{server.url}/v1/stream") as second:
            assert first.status_code == second.status_code == 200
            # Hold the iterators: a dropped one closes its connection, and its stream with it.
            held = first.iter_bytes(), second.iter_bytes()
            next(held[0]), next(held[1])
            # Streamed, so a wrongly admitted third stream fails the assertion instead of hanging.
            with c.stream("GET", f"{server.url}/v1/stream") as third:
                assert third.status_code == 429, server.log_path.read_text()[-2000:]
                assert "open streams" in json.loads(third.read())["detail"]
        codes = []
        for _ in range(30):  # the server notices the closed ones within moments
            with c.stream("GET", f"{server.url}/v1/stream?after=99999999999999999999999") as again:
                codes.append(again.status_code)  # … and an absurd resume point is ignored
            if codes[-1] == 200:
                break
            time.sleep(0.1)
        assert codes[-1] == 200


def test_a_stopping_server_ends_its_streams_instead_of_hanging_until_killed(
        settings: Settings, streams: Streams) -> None:
    _, server = streams()
    assert server.proc is not None
    # Keep-alives are 15–30 s apart: a stream left open fails this read's 5 s timeout.
    with httpx.stream("GET", f"{server.url}/v1/stream", timeout=5) as response:
        lines = response.iter_lines()
        assert next(lines).startswith("retry:")
        stopped_at = time.monotonic()
        os.kill(server.proc.pid, signal.SIGTERM)
        list(lines)  # the stream ends: the client reconnects elsewhere with its last id
    server.proc.wait(15)
    assert time.monotonic() - stopped_at < 15, server.log_path.read_text()[-2000:]


def test_the_stream_server_says_whom_it_serves_and_whether_it_follows_the_log(
        kyiv_settings: Settings, live_server: Callable[..., LiveServer], tmp_path: Path) -> None:
    api = live_server()
    node = StreamNode(api.env, tmp_path / "stream.log").start()
    try:
        url = kyiv_settings.database_url
        shelter = kyiv_shelter(url)
        with httpx.stream("GET", f"{node.url}/v1/stream", timeout=10) as response:
            lines = response.iter_lines()
            while next(lines) != ": connected":
                pass
            assert figure(node.url, "shelterwatch_sse_clients") == 1
            assert httpx.post(f"{api.url}/v1/reports", json={
                "shelter_id": shelter.id, "kind": "locked", "lat": shelter.lat,
                "lon": shelter.lon}).status_code == 201
            while not next(lines).startswith("id:"):
                pass
            sent = figure(node.url, "shelterwatch_sse_events_sent_total")
            assert sent is not None and sent >= 1
        ready = httpx.get(f"{node.url}/v1/health", timeout=5)
        assert ready.status_code == 200, ready.text
        body = ready.json()
        assert body["ok"] and body["last_seq"] >= 1, body
        assert figure(node.url, "shelterwatch_log_applied_seq") == body["applied_seq"]
        assert figure(node.url, "shelterwatch_sse_slow_clients_cut_total") == 0
    finally:
        node.stop()
    assert node.proc is not None and node.proc.returncode == 0
