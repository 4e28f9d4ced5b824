"""The inspectors' page in headless Chromium: an audit made with the network cut waits on the
phone and is recorded exactly once when the network returns."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from shelterwatch import db
from shelterwatch.audits.models import Audit
from shelterwatch.auth import service as auth
from shelterwatch.clock import utcnow
from tests.audits.support import png
from tests.support.browser import launch
from tests.support.databases import Templates
from tests.support.server import LiveServer, kyiv_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TIMEOUT_MS = 15_000
ANSWER_ALL_PASSING = """() => {
  document.querySelectorAll('#items input[type=radio][value=pass]').forEach((r) => r.click());
  document.querySelectorAll('#items input[type=number]').forEach((n) => { n.value = '100000'; });
}"""


@pytest.fixture(scope="module")
def site(templates: Templates, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[tuple[LiveServer, str, Path]]:
    where = tmp_path_factory.mktemp("audit-page")
    with kyiv_server(templates, where,
                     SHELTERWATCH_PHOTO_DIR=str(where / "photos")) as (server, url):
        yield server, url, where


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch()


def _tokens(url: str) -> tuple[str, str]:
    with db.transaction(url) as s:
        _, auditor = auth.create(s, role="auditor", name="Комісія 12", now=utcnow())
        _, operator = auth.create(s, role="operator", name="Черговий", now=utcnow())
    return auditor, operator


def test_an_audit_made_offline_is_sent_once_when_the_network_returns(
        browser: Any, site: tuple[LiveServer, str, Path]) -> None:
    server, url, where = site
    auditor, operator = _tokens(url)
    made = httpx.post(f"{server.url}/v1/campaigns", headers={"Authorization": f"Bearer {operator}"},
                      json={"name": "Podil", "area_id": "31", "deadline": "2099-01-01T00:00:00Z",
                            "groups": ["A", "B"]}, timeout=30)
    assert made.status_code == 201, made.text
    campaign = made.json()["id"]
    first = httpx.get(f"{server.url}/v1/campaigns/{campaign}/worklist",
                      params={"group": "A"}, headers={"Authorization": f"Bearer {auditor}"},
                      timeout=30).json()["shelters"][0]
    context = browser.new_context(
        base_url=server.url, viewport={"width": 412, "height": 915}, locale="uk-UA",
        permissions=["geolocation"],
        geolocation={"latitude": first["lat"], "longitude": first["lon"], "accuracy": 45})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto("/audit")
    page.wait_for_selector("body[data-ready='1']")
    page.fill("#token", auditor)
    page.click("#login button[type=submit]")
    page.fill("#campaign", str(campaign))
    page.fill("#group", "A")
    page.click("#campaign-form button[type=submit]")
    page.wait_for_selector(f"#shelters button[data-shelter-id='{first['id']}']")
    page.wait_for_function("() => localStorage.getItem('shelterwatch.audit.checklist')")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_function("navigator.serviceWorker.controller !== null")

    # The network is cut: the page itself, the shelters and the checklist come from the phone.
    context.set_offline(True)
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    page.click(f"#shelters button[data-shelter-id='{first['id']}']")
    page.wait_for_selector("#gps.flag")  # a 45 m fix is flagged
    assert "неточно" in page.locator("#gps").inner_text()
    page.evaluate(ANSWER_ALL_PASSING)
    page.click("#items .item[data-item='lighting'] input[value=fail]")
    big = where / "dark-corridor.png"
    big.write_bytes(png(3, size=2400))
    page.set_input_files("#items input[type=file][data-item='lighting']", str(big))
    page.wait_for_selector("#items input[type=file][data-item='lighting'][data-taken='1']")
    photo = page.evaluate("(() => { const p = state.photos.get('lighting');"
                          " return {w: p.width, h: p.height, bytes: p.bytes}; })()")
    assert max(photo["w"], photo["h"]) <= 1600 and photo["bytes"] <= 500_000
    page.click("#save")
    page.wait_for_selector("#queue li[data-state='queued']")
    assert page.locator("#queue-state").get_attribute("data-pending") == "1"
    page.evaluate("flush()")
    assert page.locator("#queue li[data-state='queued']").count() == 1

    # Back online, three sends race with the same key: one audit on the server.
    context.set_offline(False)
    page.evaluate("Promise.all([sendQueued(), sendQueued(), sendQueued()])")
    page.wait_for_selector("#queue li[data-state='sent']")
    with db.reading(url) as s:
        count = s.execute(select(func.count()).select_from(Audit)
                          .where(Audit.shelter_id == first["id"])).scalar_one()
        audit = s.execute(select(Audit).where(Audit.shelter_id == first["id"])).scalar_one()
        assert (audit.category, audit.gps_flagged, audit.campaign_id) == (
            "limited", True, campaign)
    assert count == 1
    card = httpx.get(f"{server.url}/v1/shelters/{first['id']}", timeout=10).json()
    assert card["properties"]["readiness"]["reasons"][0]["en"] == "no light"
    context.close()


def test_a_ghost_leaves_nearest_the_pack_and_the_map_within_a_second(
        browser: Any, site: tuple[LiveServer, str, Path]) -> None:
    server, url, _ = site
    auditor, _ = _tokens(url)
    here = (50.4650, 30.5150)  # Podil
    nearest = httpx.get(f"{server.url}/v1/nearest",
                        params={"lat": here[0], "lon": here[1]}, timeout=10).json()
    ghost = nearest["results"][0]["shelter"]["id"]
    context = browser.new_context(base_url=server.url, viewport={"width": 412, "height": 915},
                                  locale="uk-UA")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto("/")
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_function(f"state.shelters.some((s) => s.id === {ghost})")
    page.wait_for_timeout(300)  # the page's event stream is connected

    sent = httpx.post(f"{server.url}/v1/audits", headers={"Authorization": f"Bearer {auditor}"},
                      json={"shelter_id": ghost, "tier": "full",
                            "answers": {"used_as_shelter": "fail"},
                            "photos": [{"item_id": "used_as_shelter",
                                        "data": base64.b64encode(png(11)).decode()}]},
                      timeout=10)
    assert sent.status_code == 201, sent.text
    started = time.monotonic()
    page.wait_for_function(f"!state.shelters.some((s) => s.id === {ghost})", timeout=1000)
    while True:
        ids = [r["shelter"]["id"] for r in httpx.get(
            f"{server.url}/v1/nearest", params={"lat": here[0], "lon": here[1]},
            timeout=5).json()["results"]]
        pack = httpx.get(f"{server.url}/v1/pack", timeout=10).json()
        gone = ghost not in ids and all(s["id"] != ghost for s in pack["shelters"])
        if gone or time.monotonic() - started > 1.0:
            break
        time.sleep(0.05)
    assert gone, "the ghost was still answered a second after the audit"
    listed = httpx.get(f"{server.url}/v1/ghosts", timeout=10).json()["ghosts"]
    assert ghost in [g["shelter"]["id"] for g in listed]
    context.close()
