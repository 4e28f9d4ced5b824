"""The simulation's crowd and phones ask and rank as the residents' phones do, over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from shelterwatch.simulate.crowd import Crowd, Reply
from shelterwatch.simulate.phone import Phone
from tests.support.databases import Templates
from tests.support.kyiv import import_kyiv
from tests.support.server import LiveServer

pytestmark = pytest.mark.slow

POINTS = [(50.4501, 30.5234), (50.4650, 30.5150), (50.4520, 30.6150), (50.3950, 30.6350)]


@pytest.fixture(scope="module")
def server(templates: Templates, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[LiveServer]:
    url = templates.copy("kyiv", import_kyiv)
    live = LiveServer({"DATABASE_URL": url, "SHELTERWATCH_TRUSTED_PROXIES": "127.0.0.1"},
                      tmp_path_factory.mktemp("crowd") / "server.log")
    live.start()
    yield live
    live.stop()
    templates.drop(url)


async def _ask_all(base: str) -> list[Reply]:
    crowd = await Crowd(base, processes=2, connections=4).start()
    try:
        asked = [crowd.send("GET", "/v1/nearest", params={"lat": lat, "lon": lon, "limit": 5},
                            headers={"X-Forwarded-For": f"10.0.0.{i}"}, read_ids=True)
                 for i, (lat, lon) in enumerate(POINTS * 10)]
        bad = crowd.send("POST", "/v1/reports", json={"shelter_id": -1, "kind": "locked"},
                         headers={"X-Forwarded-For": "10.0.1.1"})
        impatient = crowd.send("GET", "/v1/nearest", params={"lat": 50.45, "lon": 30.52},
                               read_ids=True, timeout_s=1e-6)
        return [*await asyncio.gather(*asked), await bad, await impatient]
    finally:
        await crowd.stop()


def test_the_crowd_gets_the_answers_a_phone_gets_from_several_processes(
        server: LiveServer) -> None:
    *looked, refused, gave_up = asyncio.run(_ask_all(server.url))
    for (lat, lon), reply in zip(POINTS * 10, looked, strict=True):
        direct = httpx.get(f"{server.url}/v1/nearest",
                           params={"lat": lat, "lon": lon, "limit": 5}, timeout=30).json()
        assert reply.status == 200 and reply.latency_s > 0
        assert reply.ids == [r["shelter"]["id"] for r in direct["results"]]
    assert refused.status == 422 and refused.ids is None  # an error answer is read, not hung on
    # A phone that gives up hears nothing (it ranks its pack); the clock is the client's own.
    assert gave_up.status == 0 and gave_up.error == "TimeoutError" and gave_up.ids is None


@pytest.mark.parametrize("warning_s", [None, 120])
def test_a_phone_without_an_answer_ranks_its_pack_as_the_server_ranks(
        server: LiveServer, warning_s: int | None) -> None:
    phone = Phone(httpx.get(f"{server.url}/v1/pack", timeout=30).json()["shelters"])
    for lat, lon in POINTS:
        params: dict[str, object] = {"lat": lat, "lon": lon, "limit": 5}
        if warning_s is not None:
            params["threat"] = "ballistic"  # 120 s
        served = httpx.get(f"{server.url}/v1/nearest", params=params, timeout=30).json()
        assert phone.rank(lat, lon, heard={}, limit=5, warning_s=warning_s) == [
            r["shelter"]["id"] for r in served["results"]]


def test_a_phone_ranks_with_what_it_heard_on_the_stream(server: LiveServer) -> None:
    phone = Phone(httpx.get(f"{server.url}/v1/pack", timeout=30).json()["shelters"])
    lat, lon = POINTS[0]
    first = phone.rank(lat, lon, heard={}, limit=3, warning_s=None)[0]
    assert first not in phone.rank(lat, lon, heard={first: "locked_reported"}, limit=3,
                                   warning_s=None)
