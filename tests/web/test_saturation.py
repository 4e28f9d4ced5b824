"""While the process cannot keep up, phones holding the pack rank it and reports go first."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn

from shelterwatch.app import create_app
from shelterwatch.config import Settings
from shelterwatch.web.saturation import CALM_TICKS, LATE_TICKS, Lateness
from tests.support.server import free_port

LOOK_UP = "/v1/nearest?lat=50.4501&lon=30.5234"


def test_a_run_of_late_ticks_gives_way_and_only_a_run_of_ticks_on_time_ends_it() -> None:
    lateness = Lateness(give_way_after_s=0.05)
    assert not lateness.observe(0.049) and not lateness.giving_way
    for _ in range(LATE_TICKS - 1):
        assert not lateness.observe(0.051)
    assert lateness.observe(0.051) and lateness.giving_way
    for _ in range(CALM_TICKS - 1):
        assert not lateness.observe(0.001)
    assert not lateness.observe(0.03)  # neither late nor on time: the run starts again
    for _ in range(CALM_TICKS - 1):
        lateness.observe(0.001)
    assert lateness.giving_way
    assert lateness.observe(0.001) and not lateness.giving_way


def test_one_pause_is_not_a_loop_that_cannot_keep_up() -> None:
    lateness = Lateness(give_way_after_s=0.05)
    for _ in range(20):  # a collection or a slow handler now and then, on time between
        for late in [0.4] * (LATE_TICKS - 1) + [0.001]:
            assert not lateness.observe(late)
    assert not lateness.giving_way


def test_a_threshold_of_zero_never_gives_way() -> None:
    lateness = Lateness(give_way_after_s=0)
    assert not lateness.observe(30.0) and not lateness.giving_way


def test_a_busy_loop_sends_pack_holders_to_their_pack_and_still_takes_reports(
        kyiv_settings: Settings) -> None:
    asyncio.run(_busy_night(kyiv_settings))


def test_a_look_up_sent_to_the_pack_still_says_which_alert_is_in_force(
        kyiv_settings: Settings, make_token: Callable[..., str]) -> None:
    """Ranked without the alert, the phone's pack has no warning time and its page would say
    "no alert" in the middle of one."""
    asyncio.run(_busy_alert(kyiv_settings, make_token("operator", "desk")))


@asynccontextmanager
async def _serving(settings: Settings) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            yield app, client
    finally:
        server.should_exit = True
        await serving


async def _give_way(watch: Any) -> None:
    deadline = time.monotonic() + 5
    while not watch.giving_way and time.monotonic() < deadline:
        time.sleep(0.08)  # a loop with always more to do than it can
        await asyncio.sleep(0)


async def _busy_night(settings: Settings) -> None:
    async with _serving(settings) as (app, client):
        refusals: list[httpx.Response] = []

        async def counted(response: httpx.Response) -> None:
            if response.status_code == 503:
                refusals.append(response)

        client.event_hooks = {"response": [counted]}
        calm = await _served(client, f"{LOOK_UP}&pack=true")
        assert calm.json()["results"]

        await _give_way(app.state.loop_watch)
        refused = await client.get(f"{LOOK_UP}&pack=true")
        assert refused.status_code == 503
        assert refused.headers["content-type"] == "application/problem+json"
        assert int(refused.headers["retry-after"]) > 0
        assert "offline pack" in refused.json()["detail"]
        assert refused.json()["alert"] is None  # calm here, and it says so
        # A caller with no pack has nothing else to rank: it is answered as before.
        assert (await client.get(LOOK_UP)).status_code == 200
        shelter = calm.json()["results"][0]["shelter"]["id"]
        report = await client.post("/v1/reports", json={
            "shelter_id": shelter, "kind": "locked", "device_id": "busy-night-phone",
            "lat": 50.4501, "lon": 30.5234})
        assert report.status_code == 201, report.text
        assert (await client.get(f"{LOOK_UP}&pack=maybe")).status_code == 422

        await _served(client, f"{LOOK_UP}&pack=true")  # ticks on time again: served
        metrics = (await client.get("/metrics")).text
        assert f"shelterwatch_lookups_given_way_total {len(refusals)}.0" in metrics
        assert all("pack=true" in str(r.request.url) for r in refusals)


async def _busy_alert(settings: Settings, operator: str) -> None:
    async with _serving(settings) as (app, client):
        started = await client.post("/v1/alerts", json={
            "area_id": "31", "type": "air_raid", "threat": "ballistic"},
            headers={"Authorization": f"Bearer {operator}"})
        assert started.status_code == 201, started.text
        deadline = time.monotonic() + 10
        while (answered := (await _served(client, LOOK_UP)).json())["alert"] is None:
            assert time.monotonic() < deadline, "the alert never reached the look-ups"
            await asyncio.sleep(0.1)

        await _give_way(app.state.loop_watch)
        refused = await client.get(f"{LOOK_UP}&pack=true")
        assert refused.status_code == 503
        alert = refused.json()["alert"]
        assert alert == answered["alert"]  # as the full answer says it
        assert alert["id"] == started.json()["id"] and alert["warning_s"] > 0
        assert int(refused.headers["content-length"]) == len(refused.content)


async def _served(client: httpx.AsyncClient, url: str) -> httpx.Response:
    """The look-up's answer once the loop keeps up (a machine busy with other tests can make
    a few ticks late on its own); fails if it never does within ten seconds."""
    deadline = time.monotonic() + 10
    while True:
        response = await client.get(url)
        if response.status_code != 503 or time.monotonic() > deadline:
            assert response.status_code == 200, response.text
            return response
        await asyncio.sleep(0.1)
