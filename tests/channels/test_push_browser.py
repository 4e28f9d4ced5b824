"""The resident page's push opt-in (`push.js`) in headless Chromium, on a real server and worker,
against the local push-service stand-in: the page that showed a door hears "reported locked —
go to X" within a minute of the report, and its service worker shows it.

A browser's push service is its vendor's (FCM for Chromium), outside this machine, so the page's
`PushManager` hands out a subscription on the stand-in instead; everything from the button to
the notification on screen is the product's own code.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from shelterwatch import db
from shelterwatch.channels.models import PushShown, PushSubscription
from shelterwatch.worker.runner import Worker
from tests.channels.conftest import Town
from tests.channels.push_service import push_service
from tests.channels.test_telegram import clinic
from tests.escalation.support import wait_for
from tests.reports.helpers import bearer, token
from tests.support.browser import launch
from tests.support.server import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT_MS = 20_000

# The subscription the stand-in issues, in place of the vendor's; the key the page asked with
# is kept so the test can check it is the server's VAPID key.
STAND_IN = """
(() => {
  const subscription = %s;
  let current = null;
  const made = () => ({endpoint: subscription.endpoint, expirationTime: null,
                       toJSON: () => subscription});
  PushManager.prototype.subscribe = async function (options) {
    const key = new Uint8Array(options.applicationServerKey);
    window.__askedWithKey = btoa(String.fromCharCode(...key))
      .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
    current = made();
    return current;
  };
  PushManager.prototype.getSubscription = async function () { return current; };
})();
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch()


def test_the_page_opts_in_and_hears_reported_locked_go_to_x_within_a_minute(
        town: Town, browser: Any, tmp_path: Path) -> None:
    door = clinic(town)
    operator = token(town.settings.database_url, "operator")
    server = LiveServer({"SHELTERWATCH_TILES_URL": ""}, tmp_path / "server.log").start()
    worker = Worker(town.settings.model_copy(update={"notify_channels": ("push",)})).start()
    try:
        with push_service() as service:
            context = browser.new_context(base_url=server.url, locale="uk-UA")
            context.set_default_timeout(TIMEOUT_MS)
            context.grant_permissions(["notifications"], origin=server.url)
            context.add_init_script(STAND_IN % json.dumps(service.subscription()))
            page = context.new_page()
            page.goto("/")
            page.wait_for_selector("body[data-ready='1']")
            page.evaluate("() => navigator.serviceWorker.ready.then(() => null)")
            page.evaluate(f"map.setView([{door.lat}, {door.lon}], 17, {{animate: false}}) "
                          "&& null")
            box = page.locator("#map").bounding_box()
            page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.wait_for_selector(".result >> nth=2")
            shown = [int(x) for x in page.eval_on_selector_all(
                "[data-shelter-id]", "els => els.map(e => e.dataset.shelterId)")]
            assert door.id in shown

            button = page.locator("#push-button")
            assert button.inner_text() == "🔔 Сповіщати про тривогу й зачинені укриття"
            button.click()
            page.wait_for_function("document.querySelector('#push-button').disabled")
            assert button.inner_text() == "🔔 Сповіщення увімкнено"
            key = httpx.get(f"{server.url}/v1/push/key").json()["public_key"]
            assert page.evaluate("window.__askedWithKey") == key
            with db.reading(town.settings.database_url) as s:
                (row,) = s.execute(select(PushSubscription)).scalars().all()
                assert row.endpoint == service.endpoint and row.area_id == door.area_id
                assert door.id in set(s.execute(select(PushShown.shelter_id)).scalars())

            httpx.post(f"{server.url}/v1/alerts", json={"area_id": "31", "type": "air_raid"},
                       headers=bearer(operator))
            reported = time.monotonic()
            receipt = httpx.post(f"{server.url}/v1/reports", json={
                "shelter_id": door.id, "kind": "locked", "device_id": "neighbour-phone-01",
                "lat": door.lat, "lon": door.lon}).json()
            assert receipt["status"] == "locked_reported"
            redirect = wait_for(lambda: [r for r in service.received
                                         if r.payload.get("kind") == "redirect"],
                                timeout_s=60, what="the redirect push")[0]
            assert redirect.at - reported < 60
            assert service.refused == []
            assert redirect.payload["locked"] == door.id
            instead = redirect.payload["instead"]
            assert instead not in (None, door.id)
            assert f"#{door.id}: укриття повідомили як зачинене" in redirect.payload["body"]
            assert "ідіть до" in redirect.payload["body"]

            # The push service hands the decrypted message to the page's service worker.
            shown_notes = deliver_to_service_worker(context, page, server.url, redirect.payload)
            assert any(n["title"] == "Укриття повідомили як зачинене"
                       and f"#{instead}" in n["body"] for n in shown_notes), shown_notes
            context.close()
    finally:
        worker.stop()
        server.stop()


def deliver_to_service_worker(context: Any, page: Any, origin: str,
                              payload: dict[str, Any]) -> list[dict[str, str]]:
    """What Chromium does when its push service delivers: a `push` event in the worker; then
    the notifications it shows."""
    cdp = context.new_cdp_session(page)
    registrations: list[dict[str, Any]] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated",
           lambda event: registrations.extend(
               r for r in event["registrations"]
               if r["scopeURL"].startswith(origin) and not r.get("isDeleted")))
    cdp.send("ServiceWorker.enable")
    for _ in range(100):  # Playwright hands over events only while it is called
        if registrations:
            break
        page.wait_for_timeout(100)
    assert registrations, "the service worker's registration"
    # The newest event carries the registration as it stands now.
    registration = registrations[-1]["registrationId"]
    # A push service delivers again until the browser acknowledges, which Chromium does only
    # once the worker's `push` event has settled; the tag folds repeats into one notification.
    # Polled: `wait_for_function` takes the promise itself as truthy and would not wait.
    notes: list[dict[str, str]] = []
    for _ in range(3):  # 3 × 10 s: a worker on a machine busy with the whole suite is slow to wake
        cdp.send("ServiceWorker.deliverPushMessage", {
            "origin": origin, "registrationId": registration, "data": json.dumps(payload)})
        for _ in range(100):
            notes = page.evaluate(
                "navigator.serviceWorker.ready.then(r => r.getNotifications())"
                ".then(ns => ns.map(n => ({title: n.title, body: n.body})))")
            if notes:
                return notes
            page.wait_for_timeout(100)
    return notes
