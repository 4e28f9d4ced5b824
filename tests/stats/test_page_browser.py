"""The public /stats page on a phone, in headless Chromium against a real server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from shelterwatch.config import Settings
from tests.stats.scenario import play
from tests.support.browser import launch

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch()


@pytest.mark.parametrize("lang", ["uk", "en"])
def test_the_stats_page_keeps_a_phones_width_with_its_cases_listed(
        browser: Any, settings: Settings, live_server: Any, lang: str) -> None:
    """A wide table scrolls inside itself; the page, its heading and its figures do not run off
    a 360-pixel screen."""
    play(settings.database_url)
    server = live_server()
    context = browser.new_context(base_url=server.url, viewport={"width": 360, "height": 640},
                                  is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.goto(f"/stats?lang={lang}")
        assert page.locator("table tr").count() > 10  # the figures and the cases are there
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        # The charts' words read at the body's size on the phone, not shrunk with the chart.
        heights = page.evaluate("[...document.querySelectorAll('svg.bars text')]"
                                ".map((t) => t.getBoundingClientRect().height)")
        assert heights and min(heights) >= 14, heights
        if lang == "uk":
            labels = page.locator("svg.bars").nth(1).text_content() or ""
            assert "хв" in labels and "min" not in labels and "never" not in labels
    finally:
        context.close()
