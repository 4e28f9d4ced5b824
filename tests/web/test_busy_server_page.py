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

import pytest

from tests.support.browser import launch
from tests.support.databases import Templates
from tests.support.server import LiveServer, kyiv_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HERE = (50.4501, 30.5234)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch()


@pytest.fixture(scope="module")
def busy(templates: Templates, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[LiveServer]:
    with kyiv_server(templates, tmp_path_factory.mktemp("busy"),
                     SHELTERWATCH_LOOKUPS_GIVE_WAY_AFTER_MS="0.001") as (server, _):
        yield server


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
