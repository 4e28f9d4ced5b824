"""Debian's Chromium, driven headless by Playwright; never a browser downloaded by a test tool."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps calling home, which a closed network
# refuses many times a second.
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


def launch() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed; `make test` installs it "
                    "(scripts/system-deps.sh)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


# The smallest phone the pages are made for: its first screen must show the answer.
PHONE = {"width": 360, "height": 640}
# How far the page reaches past the viewport's right edge (0: no horizontal scroll).
OVERFLOW_PX = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


def switch_language(page: Any) -> None:
    """Press the page's language switch (#lang) and wait until the document says so."""
    before = page.evaluate("document.documentElement.lang")
    page.locator("#lang").click()
    page.wait_for_function(f"document.documentElement.lang !== {before!r}")
