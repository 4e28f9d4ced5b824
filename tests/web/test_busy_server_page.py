"""A phone holding the pack, asking a server that is giving way to reports, in headless Chromium.

The server runs with a threshold so small that its loop is always "late" (any tick's jitter is
more), so every look-up that says it holds the pack is refused at once. The page must then rank
its pack straight away, not after its five-second timeout, say why in words that do not claim
the phone is offline, and still send a report.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.browser import launch
from tests.support.databases import Templates
from tests.support.server import LiveServer, kyiv_server, start_alert

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HERE = (50.4501, 30.5234)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch()


@pytest.fixture(scope="module")
def busy_site(templates: Templates, tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[tuple[LiveServer, str]]:
    with kyiv_server(templates, tmp_path_factory.mktemp("busy"),
                     SHELTERWATCH_LOOKUPS_GIVE_WAY_AFTER_MS="0.001") as site:
        yield site


@pytest.fixture(scope="module")
def busy(busy_site: tuple[LiveServer, str]) -> LiveServer:
    return busy_site[0]


def _phone(browser: Any, server: LiveServer) -> tuple[Any, Any]:
    context = browser.new_context(
        base_url=server.url, viewport={"width": 360, "height": 640}, locale="uk-UA",
        geolocation={"latitude": HERE[0], "longitude": HERE[1]},
        permissions=["geolocation"], has_touch=True, is_mobile=True)
    return context, context.new_page()


def test_a_busy_server_sends_the_phone_to_its_pack_at_once_and_the_page_says_why(
        browser: Any, busy: LiveServer, tmp_path: Path) -> None:
    context = browser.new_context(
        base_url=busy.url, viewport={"width": 390, "height": 844}, locale="uk-UA",
        geolocation={"latitude": HERE[0], "longitude": HERE[1]},
        permissions=["geolocation"], has_touch=True, is_mobile=True)
    answers: list[tuple[str, int]] = []
    page: Any = context.new_page()
    page.on("response", lambda r: answers.append((r.url, r.status)))
    page.goto("/")
    page.wait_for_selector("body[data-ready='1']")  # the pack is on the phone
    asked = time.monotonic()
    page.click("#locate")
    page.wait_for_selector("#answer-card[data-shelter-id]", timeout=20_000)
    waited = time.monotonic() - asked
    page.screenshot(path=str(tmp_path / "busy-390x844.png"))
    looked_up = [(url, status) for url, status in answers if "/v1/nearest?" in url]
    assert looked_up and all("pack=true" in url and status == 503
                             for url, status in looked_up), looked_up
    assert waited < 4.5, f"the page waited {waited:.1f} s, near its 5 s timeout"
    summary = page.locator("#summary").inner_text()
    assert summary.startswith("Сервер перевантажений") and "Без мережі" not in summary
    assert page.locator("#results li.result").count() == 2  # the alternatives, from the pack
    page.locator("#answer-card button.report-locked").click()  # sent after 4 s to undo
    page.wait_for_selector("#receipts li.receipt[data-state='sent']", timeout=20_000)
    assert any("/v1/reports" in url and status == 201 for url, status in answers), answers
    context.close()


def test_sent_to_its_pack_during_an_alert_the_phone_ranks_against_the_warning_time(
        browser: Any, busy_site: tuple[LiveServer, str], tmp_path: Path) -> None:
    """The refusal carries the alert in force, so the page neither misses the alert nor claims
    calm, even when the refusal is the first thing it hears from the server."""
    server, url = busy_site
    alert, operator = start_alert(server, url)
    try:
        context, page = _phone(browser, server)
        # Only the look-up may tell it: no list of alerts, no stream.
        page.route("**/v1/alerts/active", lambda route: route.abort())
        page.route("**/v1/stream", lambda route: route.abort())
        page.goto("/")
        page.wait_for_selector("body[data-ready='1']")
        page.click("#locate")
        page.wait_for_selector("#answer-card[data-shelter-id]", timeout=20_000)
        page.wait_for_selector("#alert-banner.alarm", timeout=5_000)
        assert "Повітряна тривога" in page.locator("#alert-text").inner_text()
        reach = page.locator("#answer-card .reach").inner_text()
        assert reach in ("Встигаєте до загрози",
                         "Можете не встигнути — шукайте найближче захисне місце"), reach
        page.screenshot(path=str(tmp_path / "busy-alert-360x640.png"))
        context.close()
    finally:
        httpx.post(f"{server.url}/v1/alerts/{alert}/end", headers=operator)


def test_a_phone_that_never_heard_from_the_server_does_not_claim_calm(
        browser: Any, busy: LiveServer) -> None:
    context, page = _phone(browser, busy)
    for path in ("**/v1/alerts/active", "**/v1/stream", "**/v1/nearest?*"):
        page.route(path, lambda route: route.abort())
    page.goto("/")
    page.wait_for_selector("body[data-ready='1']")
    page.click("#locate")
    page.wait_for_selector("#answer-card[data-shelter-id]", timeout=20_000)
    banner = page.locator("#alert-text").inner_text()
    assert banner == "Стан тривоги невідомий: сервер не відповів", banner
    reach = page.locator("#answer-card .reach")
    assert reach.inner_text() == "Стан тривоги невідомий"
    assert "unknown" in (reach.get_attribute("class") or "")  # grey, not the calm green
    assert "Тривоги немає" not in page.locator("body").inner_text()
    context.close()
