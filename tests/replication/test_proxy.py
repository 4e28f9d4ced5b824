"""Two API nodes behind nginx, run with the shipped deploy/nginx/ configuration.

A page on nginx's stream sees what a report made through nginx changed, though nginx put the
stream and the report on different nodes; when the stream's node dies, the page reconnects
through nginx with its Last-Event-ID and misses nothing. nginx serves the published pack itself,
pre-compressed, its ETag changing exactly when the content does.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from shelterwatch.app import create_app
from shelterwatch.config import Settings
from shelterwatch.pack import published
from tests.reports.helpers import kyiv_shelter
from tests.support.nginx import missing_nginx, nginx_in_front
from tests.support.server import LiveServer
from tests.support.sse import LiveEvents

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(missing_nginx() is not None, reason=missing_nginx() or "")]


def _sse_clients(node: LiveServer) -> int:
    """The node's own count of stream clients (its /metrics, asked directly, not via nginx)."""
    text = httpx.get(f"{node.url}/metrics", timeout=5).text
    found = re.search(r"^shelterwatch_sse_clients(?:\{[^}]*\})? (\S+)$", text, re.MULTILINE)
    return int(float(found.group(1))) if found else 0


def _report(base: str, shelter_offset: int, url: str) -> dict:
    shelter = kyiv_shelter(url, shelter_offset)
    r = httpx.post(f"{base}/v1/reports", json={"shelter_id": shelter.id, "kind": "locked",
                                               "lat": shelter.lat, "lon": shelter.lon},
                   timeout=15)
    assert r.status_code == 201, r.text
    return {"shelter_id": shelter.id, **r.json()}


def test_the_stream_through_nginx_misses_nothing_when_its_node_dies(
        kyiv_settings: Settings, live_server: Callable[..., LiveServer], tmp_path: Path) -> None:
    nodes = [live_server(), live_server()]
    url = kyiv_settings.database_url
    with nginx_in_front([n.port for n in nodes], tmp_path / "nginx") as proxy:
        page = LiveEvents(proxy.url, reconnect=True)
        try:
            holding = [n for n in nodes if _sse_clients(n) == 1]
            assert len(holding) == 1, [_sse_clients(n) for n in nodes]
            streaming, = holding
            # least_conn: the stream holds one node, so nginx sends the report to the other
            first = _report(proxy.url, 0, url)
            other, = (n for n in nodes if n is not streaming)
            assert '"route":"/v1/reports"' in other.log_path.read_text()
            assert '"route":"/v1/reports"' not in streaming.log_path.read_text()
            assert page.first("status.changed", shelter_id=first["shelter_id"]) is not None, \
                [e[1]["kind"] for e in page.events]

            streaming.kill()  # the page's node dies mid-stream
            second = _report(proxy.url, 1, url)  # through nginx, to the node still up
            resumed = page.first("status.changed", timeout_s=15,
                                 shelter_id=second["shelter_id"])
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
