"""Walking times from a foot-routing server, and the estimate whenever it fails or is slow."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from shelterwatch.app import create_app
from shelterwatch.config import Settings
from shelterwatch.rules.geo import great_circle_m
from shelterwatch.shelters.routing import FootRouter

MAIDAN = (50.4501, 30.5234)


class Router:
    """A loopback server speaking OSRM's /table and Valhalla's /sources_to_targets."""

    def __init__(self) -> None:
        self.detour: dict[int, float] = {}  # target position -> factor over the straight line
        self.delay_s = 0.0
        self.requests: list[str] = []
        router = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, body: dict[str, Any]) -> None:
                time.sleep(router.delay_s)
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # OSRM table service
                url = urlsplit(self.path)
                router.requests.append(self.path)
                prefix = "/table/v1/foot/"
                assert url.path.startswith(prefix)
                assert parse_qs(url.query)["sources"] == ["0"]
                coords = [tuple(map(float, c.split(","))) for c in
                          url.path[len(prefix):].split(";")]
                (lon0, lat0), targets = coords[0], coords[1:]
                row = [great_circle_m(lat0, lon0, lat, lon) * router.detour.get(i, 1.0)
                       for i, (lon, lat) in enumerate(targets)]
                self._send({"code": "Ok", "distances": [[0.0, *row]],
                            "durations": [[0.0, *(d / 1.4 for d in row)]],
                            "sources": [{"location": [lon0, lat0]}],
                            "destinations": [{"location": list(c)} for c in coords]})

            def do_POST(self) -> None:  # Valhalla matrix service
                router.requests.append(self.path)
                req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                src = req["sources"][0]
                assert req["costing"] == "pedestrian"
                row = [{"from_index": 0, "to_index": i, "time": 1,
                        "distance": great_circle_m(src["lat"], src["lon"], t["lat"], t["lon"])
                        * router.detour.get(i, 1.0) / 1000}
                       for i, t in enumerate(req["targets"])]
                self._send({"sources_to_targets": [row], "units": "kilometers"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def router() -> Iterator[Router]:
    r = Router()
    yield r
    r.server.shutdown()


def _client(settings: Settings, **update: Any) -> TestClient:
    return TestClient(create_app(settings.model_copy(update=update)))


def test_a_long_way_round_moves_the_nearest_shelter_down_the_list(
    kyiv_settings: Settings, router: Router
) -> None:
    with _client(kyiv_settings, routing_url=router.url) as client:
        straight = client.get("/v1/nearest", params={"lat": MAIDAN[0], "lon": MAIDAN[1]}).json()
        nearest_id = straight["results"][0]["shelter"]["id"]
        router.detour = {0: 8.0}  # the nearest door is behind a railway: eight times the walk
        routed = client.get("/v1/nearest", params={"lat": MAIDAN[0], "lon": MAIDAN[1]}).json()
    assert router.requests
    assert routed["results"][0]["shelter"]["id"] != nearest_id
    assert nearest_id not in [r["shelter"]["id"] for r in routed["results"][:1]]
    first = routed["results"][0]
    assert first["walk_s"] == pytest.approx(first["distance_m"] / 1.3, abs=1)


def test_a_slow_router_is_abandoned_for_the_estimate(
    kyiv_settings: Settings, router: Router
) -> None:
    router.delay_s = 1.0
    with _client(kyiv_settings, routing_url=router.url, routing_timeout_s=0.1) as client:
        started = time.monotonic()
        body = client.get("/v1/nearest", params={"lat": MAIDAN[0], "lon": MAIDAN[1]}).json()
        took = time.monotonic() - started
    assert took < 0.8
    first = body["results"][0]
    assert first["walk_s"] == round(first["distance_m"] * 1.3 / 1.3)


def test_an_unreachable_router_is_abandoned_for_the_estimate(kyiv_settings: Settings) -> None:
    with _client(kyiv_settings, routing_url="http://127.0.0.1:9") as client:
        response = client.get("/v1/nearest", params={"lat": MAIDAN[0], "lon": MAIDAN[1]})
    assert response.status_code == 200 and len(response.json()["results"]) == 3


def test_valhalla_distances_are_read_in_kilometres(router: Router) -> None:
    router.detour = {1: 2.0}
    foot = FootRouter(router.url, engine="valhalla", timeout_s=1.0)
    targets = [(50.4511, 30.5234), (50.4501, 30.5334)]

    async def ask() -> list[float | None] | None:
        try:
            return await foot.distances(MAIDAN, targets)
        finally:
            await foot.aclose()

    got = asyncio.run(ask())
    assert got is not None
    assert got[0] == pytest.approx(great_circle_m(*MAIDAN, *targets[0]), rel=1e-6)
    assert got[1] == pytest.approx(2 * great_circle_m(*MAIDAN, *targets[1]), rel=1e-6)
