"""The coverage page and the console's coverage panel in headless Chromium, on a real server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from shelterwatch import db
from shelterwatch.auth import service as auth
from shelterwatch.clock import utcnow
from shelterwatch.config import Settings
from shelterwatch.shelters.models import Shelter
from tests.coverage import city
from tests.support.browser import OVERFLOW_PX, PHONE, launch, switch_language

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT_MS = 20_000


@pytest.fixture
def server(session: Session, settings: Settings, live_server: Any, tmp_path: Path) -> str:
    city.install(session)
    session.commit()
    totals = tmp_path / "districts.csv"
    totals.write_text("district_id,population\nSYN-W,44100\nSYN-E,40000\n", encoding="utf-8")
    return str(live_server(SHELTERWATCH_COVERAGE_POPULATION=str(totals),
                           SHELTERWATCH_COVERAGE_AREAS="*").url)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch()


def test_the_coverage_page_shows_the_districts_and_the_cells(browser: Any, server: str,
                                                             settings: Settings) -> None:
    with db.transaction(settings.database_url) as s:
        _, token = auth.create(s, role="patrol", name="Патруль 3", now=utcnow())
        west = s.scalar(select(Shelter.id).where(Shelter.source_id == "w"))
    locked = httpx.post(f"{server}/v1/checks", json={"shelter_id": west, "kind": "locked"},
                        headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert locked.status_code == 201, locked.text
    context = browser.new_context(base_url=server, viewport=PHONE, locale="uk-UA")
    context.set_default_timeout(TIMEOUT_MS)
    asked: list[str] = []
    page = context.new_page()
    page.on("request", lambda r: asked.append(r.url))
    page.goto("/coverage?area=SYN&threat=cruise")
    page.wait_for_function("document.querySelectorAll('#districts tr').length === 2")
    # One language at a time, and a 360-px phone scrolls only down: the answer is on top.
    headline = page.locator("#headline")
    assert re.search(r"\d+\.\d% людей не встигають", headline.inner_text())
    assert not re.search("[A-Za-z]{3,}", headline.inner_text())
    assert "84" in headline.inner_text().replace("\u00a0", "").replace(" ", "")  # 84 100 people
    assert headline.bounding_box()["y"] < PHONE["height"]
    assert page.evaluate(OVERFLOW_PX) == 0
    rows = page.locator("#districts tr").all_inner_texts()
    assert any("Захід" in r for r in rows) and not any("West" in r for r in rows)
    assert "districts.csv" in page.locator("#source").inner_text()
    # where to fix first: the door the patrol found locked, with the people it would bring back
    page.wait_for_function("document.querySelectorAll('#sites tr').length >= 1")
    first = page.locator("#sites tr").first.inner_text()
    assert f"shelter {west}" in first and "locked_confirmed" in first
    assert "ненадійних укриттів" in page.locator("#sites-basis").inner_text()
    page.wait_for_function("document.querySelectorAll('.leaflet-overlay-pane path, "
                           ".leaflet-overlay-pane canvas').length > 0")

    switch_language(page)  # the switch words the answer already shown, and the page's own words
    assert re.search(r"\d+\.\d% of people cannot reach", headline.inner_text())
    assert not re.search("[А-Яа-яІіЇї]", page.locator("h1").inner_text())
    assert any("West" in r for r in page.locator("#districts tr").all_inner_texts())
    assert "greedy maximal coverage" in page.locator("#sites-basis").inner_text()
    assert page.evaluate(OVERFLOW_PX) == 0
    assert [u for u in asked if not u.startswith(server + "/")] == []
    context.close()


def test_the_console_panel_shows_people_out_of_reach(browser: Any, server: str,
                                                     settings: Settings) -> None:
    with db.transaction(settings.database_url) as s:
        _, token = auth.create(s, role="operator", name="Черговий", now=utcnow())
    context = browser.new_context(base_url=server, viewport=PHONE, locale="uk-UA")
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(f"localStorage.setItem('sw_operator_token', {token!r});")
    page = context.new_page()
    page.goto("/console?coverage_area=SYN")
    panel = page.locator("#coverage-panel [data-out]")
    page.wait_for_function(
        "document.querySelector('#coverage-panel [data-out]').textContent.includes('Поза')")
    text = panel.inner_text()
    assert "без тривоги" in text and "Поза досяжністю" in text and "Out of" not in text
    assert page.evaluate(OVERFLOW_PX) == 0
    switch_language(page)
    page.wait_for_function(
        "document.querySelector('#coverage-panel [data-out]').textContent.includes('Out of')")
    assert "no alert" in panel.inner_text() and "Поза" not in panel.inner_text()
    context.close()
