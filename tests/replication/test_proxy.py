"""Two API nodes and two stream nodes behind nginx, run with the shipped deploy/nginx/ files.

A page on nginx's stream (a stream node, `shelterwatch stream`) sees what a report made through
nginx (to an API node) changed; when its stream node dies, the page reconnects through nginx
with its Last-Event-ID to the other stream node and misses nothing, nor hears anything twice.
nginx serves the published pack itself, pre-compressed, its ETag changing exactly when the
content does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from shelterwatch.app import create_app
from shelterwatch.config import Settings, get_settings
from shelterwatch.pack import published
from tests.reports.helpers import kyiv_shelter
from tests.support.metrics import figure
from tests.support.nginx import missing_nginx, nginx_in_front
from tests.support.server import LiveServer, StreamNode
from tests.support.sse import LiveEvents

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(missing_nginx() is not None, reason=missing_nginx() or "")]


def _sse_clients(node: LiveServer) -> int:
    """The node's own count of stream clients (its /metrics, asked directly, not via nginx)."""
    return int(figure(node.url, "shelterwatch_sse_clients") or 0)


def _report(base: str, shelter_offset: int, url: str) -> dict:
    shelter = kyiv_shelter(url, shelter_offset)
    r = httpx.post(f"{base}/v1/reports", json={"shelter_id": shelter.id, "kind": "locked",
                                               "lat": shelter.lat, "lon": shelter.lon},
                   timeout=15)
    assert r.status_code == 201, r.text
    return {"shelter_id": shelter.id, **r.json()}


@pytest.fixture
def stream_nodes(tmp_path: Path) -> Iterator[Callable[[], StreamNode]]:
    """`shelterwatch stream` processes on the test's database; all are stopped at the end."""
    started: list[StreamNode] = []

    def start() -> StreamNode:
        node = StreamNode({"DATABASE_URL": get_settings().database_url},
                          tmp_path / f"stream-{len(started)}.log")
        started.append(node)
        return node.start()

    yield start
    for node in started:
        node.stop()


def test_the_stream_through_nginx_misses_nothing_when_its_stream_node_dies(
        kyiv_settings: Settings, live_server: Callable[..., LiveServer],
        stream_nodes: Callable[[], StreamNode], tmp_path: Path) -> None:
    nodes = [live_server(), live_server()]
    streamers = [stream_nodes(), stream_nodes()]
    url = kyiv_settings.database_url
    with nginx_in_front([n.port for n in nodes], tmp_path / "nginx",
                        stream_ports=[s.port for s in streamers]) as proxy:
        page = LiveEvents(proxy.url, reconnect=True)
        try:
            # nginx sent the page to a stream node, never to an API node
            assert [_sse_clients(n) for n in nodes] == [0, 0]
            holding = [s for s in streamers if _sse_clients(s) == 1]
            assert len(holding) == 1, [_sse_clients(s) for s in streamers]
            streaming, = holding
            other, = (s for s in streamers if s is not streaming)
            # the report goes through nginx to an API node; the stream node hears it in the log
            first = _report(proxy.url, 0, url)
            assert page.first("status.changed", shelter_id=first["shelter_id"]) is not None, \
                [e[1]["kind"] for e in page.events]

            streaming.kill()  # the page's stream node dies mid-stream
            second = _report(proxy.url, 1, url)
            resumed = page.first("status.changed", timeout_s=15,
                                 shelter_id=second["shelter_id"])
            assert _sse_clients(other) == 1, "the page did not reconnect to the other node"
        finally:
            page.stop.set()
        assert resumed is not None, (page.drops, [e[1]["kind"] for e in page.events])
        assert page.drops >= 1, "the stream never ended when its node died"
        # the resumed stream began after the last id seen: nothing twice, nothing missing
        assert page.ids == sorted(set(page.ids)), page.ids
        for sent in (first, second):
            changed = [e for _, e in page.events if e["kind"] == "status.changed"
                       and e["shelter_id"] == sent["shelter_id"]]
            assert len(changed) == 1, changed


def _publish(url: str, directory: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "shelterwatch.cli.main", "pack", "publish",
                           str(directory)], env={**os.environ, "DATABASE_URL": url},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_nginx_serves_the_published_pack_compressed_with_a_content_etag(
        kyiv_settings: Settings, tmp_path: Path) -> None:
    url = kyiv_settings.database_url
    pack_dir = tmp_path / "pack"
    _publish(url, pack_dir)
    # no node at all behind it: the pack never reaches the API
    with nginx_in_front([1], tmp_path / "nginx", pack_dir=pack_dir) as proxy:
        gz = httpx.get(f"{proxy.url}/v1/pack", headers={"Accept-Encoding": "gzip"})
        assert gz.status_code == 200
        assert gz.headers["content-encoding"] == "gzip"
        assert gz.headers["content-type"].startswith("application/json")
        etag = gz.headers["etag"]
        plain = httpx.get(f"{proxy.url}/v1/pack", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers
        assert plain.json() == gz.json()
        revalidated = httpx.get(f"{proxy.url}/v1/pack", headers={"If-None-Match": etag,
                                                                  "Accept-Encoding": "gzip"})
        assert revalidated.status_code == 304

        same = published.PublishedPack(pack_dir).current()
        assert same is not None
        assert not published.publish(pack_dir, same), "unchanged content was written again"
        assert httpx.get(f"{proxy.url}/v1/pack", headers={"Accept-Encoding": "gzip"}
                         ).headers["etag"] == etag

        shelter = kyiv_shelter(url)
        with TestClient(create_app(kyiv_settings)) as client:
            assert client.post("/v1/reports", json={"shelter_id": shelter.id, "kind": "locked",
                                                    "lat": shelter.lat, "lon": shelter.lon}
                               ).status_code == 201
        _publish(url, pack_dir)
        changed = httpx.get(f"{proxy.url}/v1/pack", headers={"If-None-Match": etag,
                                                              "Accept-Encoding": "gzip"})
        assert changed.status_code == 200 and changed.headers["etag"] != etag
        entry = [s for s in changed.json()["shelters"] if s["id"] == shelter.id]
        assert entry and entry[0]["status"] == "locked_reported", entry
