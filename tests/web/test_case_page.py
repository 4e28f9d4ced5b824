"""The case page `/t/…` where the location policy hides an oblast, in headless Chromium.

A resident who reported a locked door in a hidden oblast follows the case like anyone else, but
the case's dossier names the shelter's place in facts it cannot drop, so the public is refused
it: the page must not offer a link that answers 401.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.browser import launch
from tests.support.databases import Templates
from tests.support.server import LiveServer, kyiv_server, start_alert

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def hidden_city(templates: Templates, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[tuple[LiveServer, str]]:
    """Kyiv (area 31) under the location policy, as a front-line oblast would be."""
    with kyiv_server(templates, tmp_path_factory.mktemp("case-page"), SHELTERWATCH_TILES_URL="",
                     SHELTERWATCH_STATS_HIDDEN_OBLASTS="31") as started:
        yield started


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch()


def test_a_case_in_a_hidden_oblast_offers_no_dossier_link_the_public_cannot_open(
        browser: Any, hidden_city: tuple[LiveServer, str]) -> None:
    server, url = hidden_city
    start_alert(server, url)
    target = httpx.get(f"{server.url}/v1/nearest",
                       params={"lat": 50.4300, "lon": 30.5400}).json()["results"][0]
    report = httpx.post(f"{server.url}/v1/reports", json={
        "shelter_id": target["shelter"]["id"], "kind": "locked", "device_id": "phone-hidden-1"})
    assert report.status_code == 201, report.text
    tid = report.json()["tracking_id"]
    case_id = httpx.get(f"{server.url}/v1/reports/{tid}").json()["incident"]["id"]
    # The dossier is refused to the public here, so a link to it would only answer 401.
    assert httpx.get(f"{server.url}/dossiers/incident/{case_id}").status_code == 401

    context = browser.new_context(base_url=server.url, viewport={"width": 360, "height": 640},
                                  locale="uk-UA")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(f"/t/{tid}")
        page.wait_for_selector("body[data-ready='1']")
        assert page.locator("#case").get_attribute("data-state") == "open"
        assert not page.locator("#dossier").is_visible()
        assert page.locator("a[href*='/dossiers/']").count() == 0
    finally:
        context.close()
