"""A resident's phone on the page at `/`, in headless Chromium against a real server.

One server over the real Kyiv registry serves the whole module; each test opens its own browser
context (its own storage, service worker and network switch) and picks its own spot in the city.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from shelterwatch import db
from shelterwatch.auth import service as auth
from shelterwatch.clock import utcnow
from tests.support.browser import launch
from tests.support.databases import Templates
from tests.support.server import LiveServer, kyiv_server, start_alert

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def site(templates: Templates, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[tuple[LiveServer, str]]:
    # No tiles: the page must be usable without them, and tests reach nothing outside.
    with kyiv_server(templates, tmp_path_factory.mktemp("resident-page"),
                     SHELTERWATCH_TILES_URL="", SHELTERWATCH_DEVICE_POW_BITS="10") as started:
        yield started


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch()


@pytest.fixture
def page(browser: Any, site: tuple[LiveServer, str]) -> Iterator[Any]:
    context = browser.new_context(base_url=site[0].url, viewport={"width": 412, "height": 915},
                                  locale="uk-UA")
    context.set_default_timeout(TIMEOUT_MS)
    p = context.new_page()
    p.goto("/")
    p.wait_for_selector("body[data-ready='1']")
    yield p
    context.close()


def pick(page: Any, lat: float, lon: float) -> None:
    """Tap the map at a place: centre the map there, then tap its middle."""
    page.evaluate(f"map.setView([{lat}, {lon}], 16, {{animate: false}}) && null")
    page.locator("#map").scroll_into_view_if_needed()
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector(".result >> nth=2")


def test_the_page_loads_and_shows_the_citys_shelters(page: Any) -> None:
    count = int(page.locator("#shelter-count").get_attribute("data-count"))
    assert count > 3000
    # Calm once the server said so (until then the banner says it is checking).
    page.wait_for_selector("#alert-banner.calm")
    assert page.locator("#alert-banner").inner_text().strip() == "Тривоги немає"
    # Leaflet is served by the app itself, never a CDN.
    sources = page.eval_on_selector_all("script[src]", "els => els.map(e => e.src)")
    assert all(s.startswith(page.url.rstrip("/")) for s in sources)


def test_tapping_a_point_lists_the_nearest_with_status_and_walking_time(page: Any) -> None:
    pick(page, 50.4501, 30.5234)
    items = page.locator(".result")
    assert items.count() == 3
    first = items.nth(0)
    assert first.locator(".badge").inner_text().strip() == "Стан невідомий"
    assert re.search(r"\d+ хв пішки", first.locator(".walk").inner_text())
    assert first.locator(".why").inner_text()
    page.click("#lang")
    assert re.search(r"\d+ min walk", page.locator(".result .walk").first.inner_text())
    assert page.locator(".result .badge").first.inner_text() == "Status unknown"


def test_a_locked_report_returns_a_receipt_with_a_tracking_id(
    page: Any, site: tuple[LiveServer, str]
) -> None:
    pick(page, 50.4410, 30.5190)
    page.locator(".result").first.locator("button.report-locked").click()
    receipt = page.wait_for_selector("#receipts li.receipt[data-state='sent']")
    tracking_id = receipt.query_selector(".tracking-id").text_content()
    assert tracking_id and tracking_id in receipt.inner_text()
    timeline = httpx.get(f"{site[0].url}/v1/reports/{tracking_id}")
    assert timeline.status_code == 200


def test_a_status_change_made_through_the_api_appears_without_reload(
    page: Any, site: tuple[LiveServer, str]
) -> None:
    server, url = site
    pick(page, 50.4620, 30.5150)
    first = page.locator(".result").first
    shelter_id = int(first.get_attribute("data-shelter-id"))
    with db.transaction(url) as s:
        _, token = auth.create(s, role="patrol", name="Патруль 7", now=utcnow())
    response = httpx.post(f"{server.url}/v1/checks", json={"shelter_id": shelter_id,
                                                           "kind": "locked"},
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.text
    # Shown at once as locked, then ranked down behind the shelters not known to be locked.
    page.wait_for_function(f"(state.statuses.get({shelter_id}) || '').startsWith('locked')")
    page.wait_for_function(
        f"document.querySelector('#answer-card').dataset.shelterId !== '{shelter_id}'")
    item = page.locator(f".result[data-shelter-id='{shelter_id}']")
    if item.count():
        assert "Зачинено" in item.locator(".badge").inner_text()


def test_with_the_network_cut_the_page_still_ranks_and_queues_a_report(
    page: Any, site: tuple[LiveServer, str]
) -> None:
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.context.set_offline(True)
    pick(page, 50.4300, 30.5400)
    assert "Без мережі" in page.locator("#summary").inner_text()
    assert not page.locator("#offline-banner").is_hidden()
    assert "дані від" in page.locator("#offline-text").inner_text()
    assert re.search(r"\d+ хв пішки", page.locator(".result .walk").first.inner_text())
    page.locator(".result").first.locator("button.report-full").click()
    # Four seconds to undo, then it waits for the network in the phone's outbox.
    page.wait_for_selector("#receipts li.receipt[data-state='queued']:has-text('Без мережі')")

    page.context.set_offline(False)
    receipt = page.wait_for_selector("#receipts li.receipt[data-state='sent']")
    tracking_id = receipt.query_selector(".tracking-id").text_content()
    assert httpx.get(f"{site[0].url}/v1/reports/{tracking_id}").status_code == 200
    assert page.evaluate("JSON.parse(localStorage.getItem('shelterwatch.outbox'))") == []


def test_the_page_reopens_offline_from_the_phones_copy(page: Any) -> None:
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    # The worker claims the page once active: from then on it answers the page's requests.
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.context.set_offline(True)
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    assert int(page.locator("#shelter-count").get_attribute("data-count")) > 3000
    pick(page, 50.4501, 30.5234)
    assert page.locator(".result").count() == 3


def test_an_alert_started_through_the_api_raises_the_banner_without_reload(
    page: Any, site: tuple[LiveServer, str]
) -> None:
    server, url = site
    pick(page, 50.4501, 30.5234)
    assert page.locator(".result .reach").first.inner_text() == "Тривоги немає"
    alert, operator = start_alert(server, url)
    page.wait_for_selector("#alert-banner.alarm")
    assert "Повітряна тривога" in page.locator("#alert-text").inner_text()
    page.wait_for_function(
        "document.querySelector('.result .reach').textContent !== 'Тривоги немає'")
    httpx.post(f"{server.url}/v1/alerts/{alert}/end", headers=operator)
    page.wait_for_selector("#alert-banner.calm")


def test_an_alert_in_another_oblast_is_no_alert_on_a_street_in_kyiv(
    page: Any, site: tuple[LiveServer, str]
) -> None:
    """A national feed reports every oblast: the page shows only the alerts that cover the
    resident's area, online from the list of alerts and offline from its pack."""
    server, url = site
    lviv, operator = start_alert(server, url, area_id="27")  # Lviv oblast
    try:
        page.reload()
        page.wait_for_selector("body[data-ready='1']")
        # The phone heard of it (the list and its pack hold it) and still says calm here.
        page.wait_for_function("state.activeAlerts.some(a => a.area_id === '27')")
        # The pack is cached for 5 s (max-age): ask again until it carries the alert.
        deadline = time.monotonic() + 20
        while not page.evaluate(
                "loadPack().then(() => state.packAlerts.some(a => a.area_id === '27'))"):
            assert time.monotonic() < deadline, "the pack never carried the Lviv alert"
            page.wait_for_timeout(500)
        pick(page, 50.4501, 30.5234)
        page.wait_for_selector("#alert-banner.calm")
        assert page.locator("#alert-text").inner_text() == "Тривоги немає"
        assert page.locator("#answer-card .reach").inner_text() == "Тривоги немає"
        page.context.set_offline(True)
        pick(page, 50.4470, 30.5200)
        assert "alarm" not in (page.locator("#alert-banner").get_attribute("class") or "")
        assert page.locator("#alert-text").inner_text() == "Немає мережі: стан тривоги невідомий"
        assert "Встигаєте" not in page.locator("#answer-card .reach").inner_text()
    finally:
        page.context.set_offline(False)
        httpx.post(f"{server.url}/v1/alerts/{lviv}/end", headers=operator)


def test_the_phone_fetches_an_issued_device_id_once_and_reports_carry_it(page: Any) -> None:
    page.wait_for_function("() => localStorage.getItem('shelterwatch.device.issued')")
    issued = page.evaluate("localStorage.getItem('shelterwatch.device.issued')")
    assert re.fullmatch(r"sw1\.[A-Za-z0-9_-]+\.[0-9a-f]{32}", issued)
    assert page.evaluate("deviceId()") == issued
