"""The street map end to end: built from a small extract, drawn in headless Chromium, offline too.

`shelterwatch basemap build` runs the real tools on tests/fixtures/basemap; the server serves the
result under SHELTERWATCH_BASEMAP_DIR; the page draws the streets with protomaps-leaflet and the
bundled font; the service worker keeps the tiles, and with the network cut the streets are still
drawn. No request may leave the app's origin.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.basemap.test_build import build_fixture
from tests.support.browser import launch
from tests.support.databases import Templates
from tests.support.server import LiveServer, kyiv_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
STREET = (50.4470, 30.5205)  # between Khreshchatyk and Chykalenka in the fixture
# Pixels of the major roads' fill in style.json (#f8cf8e), counted on the map's tile canvases.
ROAD_PIXELS = """() => {
  let n = 0;
  for (const c of document.querySelectorAll('#map canvas.leaflet-tile')) {
    if (!c.width) continue;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 0; i < d.length; i += 4) {
      const near = (a, b) => Math.abs(a - b) < 6;
      if (near(d[i], 248) && near(d[i + 1], 207) && near(d[i + 2], 142)) n++;
    }
  }
  return n;
}"""


def look_at(page: Any, zoom: int) -> None:
    page.evaluate(f"() => {{ map.setView([{STREET[0]}, {STREET[1]}], {zoom}, "
                  "{animate: false}); }")


@pytest.fixture(scope="module")
def server(templates: Templates, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("basemap-page")
    basemap = build_fixture(tmp)
    with kyiv_server(templates, tmp, SHELTERWATCH_BASEMAP_DIR=str(basemap)) as (live, _):
        yield live


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch()


def test_tiles_are_served_from_the_archive_with_the_build_in_their_url(server: LiveServer) -> None:
    index = httpx.get(f"{server.url}/basemap/index.json").json()
    z, x, y = next(t for t in index["tiles"] if t[0] == 14)
    r = httpx.get(f"{server.url}/basemap/tiles/{z}/{x}/{y}.mvt?v={index['version']}")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert "вулиця Хрещатик".encode() in r.content  # httpx unpacked the gzip
    empty = httpx.get(f"{server.url}/basemap/tiles/14/0/0.mvt")
    assert (empty.status_code, empty.content) == (200, b"")


def test_the_page_draws_the_streets_and_still_draws_them_offline(
        browser: Any, server: LiveServer, tmp_path: Path) -> None:
    context = browser.new_context(base_url=server.url, viewport={"width": 390, "height": 844},
                                  locale="uk-UA", is_mobile=True, has_touch=True)
    context.set_default_timeout(20_000)
    requests: list[str] = []
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto("/")
        page.wait_for_selector("body[data-ready='1']")
        page.wait_for_selector("#map[data-basemap='streets']")
        look_at(page, 16)
        page.wait_for_function(f"({ROAD_PIXELS})() > 200")
        assert "© учасники OpenStreetMap" in page.locator("#map-note").inner_text()
        page.screenshot(path=str(tmp_path / "streets-390x844.png"))
        for width, height in ((360, 640), (1366, 900)):
            page.set_viewport_size({"width": width, "height": height})
            look_at(page, 16)
            page.wait_for_function(f"({ROAD_PIXELS})() > 200")
            page.screenshot(path=str(tmp_path / f"streets-{width}x{height}.png"))
        page.set_viewport_size({"width": 390, "height": 844})
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        assert [v["id"] for v in result["violations"]
                if v["impact"] in ("serious", "critical")] == []
        # The service worker keeps every tile of the city; then the network goes.
        page.wait_for_selector("#map[data-basemap-kept]")
        tiles = len(httpx.get(f"{server.url}/basemap/index.json").json()["tiles"])
        assert page.locator("#map").get_attribute("data-basemap-kept") == str(tiles)
        context.set_offline(True)
        page.reload()
        page.wait_for_selector("body[data-ready='1']")
        page.wait_for_selector("#map[data-basemap='streets']")
        look_at(page, 15)
        page.wait_for_function(f"({ROAD_PIXELS})() > 200")
        page.screenshot(path=str(tmp_path / "streets-offline-390x844.png"))
        elsewhere = [u for u in requests if not u.startswith(server.url + "/")]
        assert elsewhere == [], f"the page reached outside the app: {elsewhere}"
        assert errors == []
    finally:
        context.close()


def test_the_search_knows_the_extracts_house_numbers_typed_with_a_typo(
        browser: Any, server: LiveServer) -> None:
    """Чикаленка 20 is in the extract, not in the 2022 registry."""
    context = browser.new_context(base_url=server.url, viewport={"width": 360, "height": 640},
                                  locale="uk-UA")
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        page.goto("/")
        page.wait_for_selector("body[data-ready='1']")
        page.wait_for_selector("#search[data-gazetteer='extract']")
        page.fill("#search-input", "Чекаленка 20")
        page.press("#search-input", "Enter")
        page.wait_for_selector("#answer-card[data-shelter-id]")
        assert page.locator("#from").inner_text() == \
            "Від знайденої адреси: вулиця Євгена Чикаленка, 20."
    finally:
        context.close()
