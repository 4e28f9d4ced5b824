"""The operator's console and the patrol's phone, in headless Chromium against a real server.

Each test runs its own server over a copy of the real Kyiv registry, starts an alert through the
API, and has a resident report the Desnianskyi clinic locked — the seed night's door.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from shelterwatch import db
from shelterwatch.auth import service as auth
from shelterwatch.clock import utcnow
from shelterwatch.config import Settings
from shelterwatch.patrols import service as patrols
from shelterwatch.shelters.models import Shelter
from tests.escalation.support import wait_for
from tests.support.browser import OVERFLOW_PX, PHONE, launch, switch_language

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TIMEOUT_MS = 10_000
CLINIC_ADDRESS = "вул. Курчатова, 18-А"  # ЦПМСД № 4, Desnianskyi district
CYRILLIC, LATIN = re.compile(r"[А-Яа-яІіЇїЄєҐґ]"), re.compile(r"[A-Za-z]")
# Records the incident events the page's own EventSource receives, to tell SSE from polling.
SPY_ON_STREAM = """
window.__incidentEvents = [];
const NativeEventSource = window.EventSource;
window.EventSource = class extends NativeEventSource {
  constructor(...args) {
    super(...args);
    this.addEventListener("incident", (e) => window.__incidentEvents.push(JSON.parse(e.data)));
  }
};
"""
# Every input, select and button must have a name a screen reader can say.
UNNAMED_CONTROLS = """
() => [...document.querySelectorAll("input, select, button, textarea")]
  .filter((el) => el.offsetParent !== null)
  .filter((el) => !(el.labels && [...el.labels].some((l) => l.textContent.trim()))
                  && !(el.getAttribute("aria-label") || "").trim()
                  && !(el.tagName === "BUTTON" && el.textContent.trim()))
  .map((el) => el.outerHTML)
"""


@dataclass
class City:
    server: str
    operator: str
    patrol: str
    clinic: Shelter

    def post(self, path: str, token: str | None = None, **body: object) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.post(self.server + path, json=body, headers=headers, timeout=10)

    def get(self, path: str, token: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.get(self.server + path, headers=headers, timeout=10)

    def start_alert(self) -> dict[str, Any]:
        started = self.post("/v1/alerts", self.operator, area_id="31", type="air_raid",
                            threat="ballistic")
        assert started.status_code == 201, started.text
        return dict(started.json())

    def report_clinic_locked(self) -> None:
        reported = self.post("/v1/reports", shelter_id=self.clinic.id, kind="locked",
                             lat=self.clinic.lat, lon=self.clinic.lon,
                             device_id="resident-phone-1")
        assert reported.status_code == 201, reported.text

    def open_incident(self) -> dict[str, Any]:
        board = self.get("/v1/incidents", self.operator).json()["incidents"]
        return next(i for i in board if i["shelter_id"] == self.clinic.id)


@pytest.fixture
def city(kyiv_settings: Settings, live_server: Any) -> City:
    now = utcnow()
    with db.transaction(kyiv_settings.database_url) as s:
        clinic = s.execute(select(Shelter).where(
            Shelter.address.contains(CLINIC_ADDRESS))).scalars().first()
        assert clinic is not None, "the bundled registry lost the clinic"
        s.expunge(clinic)
        _, operator = auth.create(s, role="operator", name="Черговий", now=now)
        token, patrol = auth.create(s, role="patrol", name="Десна 12", now=now)
        patrols.create_unit(s, name="Десна 12", token_id=token.id, lat=50.4850, lon=30.6280,
                            now=now, actor="test")
    # No worker runs: nothing but the operator's own "dispatch now" sends the patrol.
    server = live_server(SHELTERWATCH_TILES_URL="")
    return City(server.url, operator, patrol, clinic)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch()


class Tab:
    """A page in its own browser context that remembers every URL it asked for."""

    def __init__(self, browser: Any, city: City, **context: Any) -> None:
        self.context = browser.new_context(base_url=city.server, **context)
        self.context.set_default_timeout(TIMEOUT_MS)
        self.requests: list[str] = []
        self.page = self.context.new_page()
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.origin = city.server

    def only_own_origin(self) -> None:
        assert self.requests, "the page made no requests at all"
        elsewhere = [u for u in self.requests if not u.startswith(self.origin + "/")]
        assert elsewhere == [], f"the page reached outside the app: {elsewhere}"


@pytest.fixture
def tabs(browser: Any, city: City) -> Iterator[list[Tab]]:
    opened: list[Tab] = []
    yield opened
    for tab in opened:
        tab.context.close()


def open_tab(browser: Any, city: City, tabs: list[Tab], **context: Any) -> Any:
    tab = Tab(browser, city, **context)
    tabs.append(tab)
    return tab


def in_both_languages(text: str) -> bool:
    return bool(CYRILLIC.search(text) and LATIN.search(text))


def sign_in_by_keyboard(page: Any, token: str) -> None:
    """Tab reaches the token field first; typing and Enter submit the form."""
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "token"
    page.keyboard.type(token)
    page.keyboard.press("Enter")


def test_operator_watches_a_locked_report_arrive_live_and_dispatches_a_patrol(
    browser: Any, city: City, tabs: list[Tab]
) -> None:
    tab = open_tab(browser, city, tabs, viewport={"width": 1280, "height": 800},
                   locale="uk-UA")
    page = tab.page
    page.add_init_script(SPY_ON_STREAM)
    page.goto("/console")

    # A wrong token is refused, in words the operator understands, and the form stays; the
    # desk reads one language at a time, the browser's, until the switch says otherwise.
    token_field = page.get_by_label(re.compile("Токен оператора"))
    assert page.locator("label[for='token']").inner_text() == "Токен оператора"
    sign_in_by_keyboard(page, "sw_not-a-real-token")
    refusal = page.get_by_role("alert")
    refusal.wait_for()
    assert refusal.inner_text() == "Токен не прийнято"
    assert token_field.is_visible()
    assert "ТРИВОГА" not in page.locator("#alert").inner_text()

    token_field.fill(city.operator)
    token_field.press("Enter")
    page.wait_for_selector("#login", state="hidden")
    assert page.locator("#alert").inner_text() == "Відбій"

    city.start_alert()
    page.wait_for_selector("#alert.on")
    alert_state = page.locator("#alert").inner_text()
    assert "ТРИВОГА" in alert_state and "Повітряна тривога" in alert_state
    assert "Київ" in alert_state and "Kyiv" not in alert_state  # not the source's UID "31"

    reported_at = time.monotonic()
    city.report_clinic_locked()
    row = page.locator("#incidents tr", has_text=CLINIC_ADDRESS)
    row.wait_for()
    assert time.monotonic() - reported_at < 4.0  # well inside the 5 s poll
    assert any(e["kind"] == "incident.opened" for e in page.evaluate("window.__incidentEvents"))
    timer = row.locator("td.timer")
    first = timer.inner_text()
    assert re.fullmatch(r"\d+:\d\d", first)
    ladder = row.locator("td").nth(3).inner_text()
    assert "Оператор" in ladder and re.search("[Пп]атрул", ladder) and "Operator" not in ladder
    # Nobody is registered as the clinic's keyholder in this city: the board says so.
    assert "не зареєстровано жодного ключника" in ladder

    # "Dispatch now", from the keyboard, gives the patrol an open_locked task at the clinic;
    # the ticking timer does not take the focus away from it.
    dispatch = row.get_by_role("button", name=re.compile("Відправити патруль"))
    assert not LATIN.search(dispatch.inner_text())
    assert CLINIC_ADDRESS in dispatch.get_attribute("aria-label")
    dispatch.focus()
    page.wait_for_function(
        f"document.querySelector('#incidents tr td.timer').textContent !== {first!r}")
    assert page.evaluate("document.activeElement.dataset.key").startswith("dispatch:")
    page.keyboard.press("Enter")
    page.locator("#tasks tr", has_text=CLINIC_ADDRESS).wait_for()
    tasks = city.get("/v1/tasks", city.patrol).json()["tasks"]
    assert [(t["kind"], t["shelter_id"]) for t in tasks] == [("open_locked", city.clinic.id)]
    assert "Відчинити зачинене" in page.locator("#tasks").inner_text()
    assert page.evaluate(UNNAMED_CONTROLS) == []

    switch_language(page)  # the board, its rows and its ticking rungs, in English
    assert "Open locked" in page.locator("#tasks").inner_text()
    assert "ALERT: Kyiv" in page.locator("#alert").inner_text()
    assert "No keyholder is registered" in row.locator("td").nth(3).inner_text()
    assert row.get_by_role("button", name=re.compile("Dispatch now")).is_visible()
    assert not CYRILLIC.search(page.locator("main h2").first.inner_text())
    # On a 360-px phone the board scrolls down only: wide tables scroll inside themselves.
    page.set_viewport_size(PHONE)
    assert page.evaluate(OVERFLOW_PX) == 0
    assert page.locator("#incidents tr", has_text=CLINIC_ADDRESS).bounding_box()["y"] < 640
    tab.only_own_origin()


def test_operator_marks_a_report_false_and_the_board_clears(
    browser: Any, city: City, tabs: list[Tab]
) -> None:
    tab = open_tab(browser, city, tabs, viewport={"width": 1280, "height": 800},
                   locale="en-GB")
    page = tab.page
    city.start_alert()
    city.report_clinic_locked()
    incident = city.open_incident()
    assert city.post(f"/v1/incidents/{incident['id']}/dispatch", city.operator).status_code == 200
    page.goto("/console")
    sign_in_by_keyboard(page, city.operator)
    row = page.locator("#incidents tr", has_text=CLINIC_ADDRESS)
    row.wait_for()

    # A poll already under way reads the board before the false report and answers after it.
    held: list[tuple[Any, Any]] = []

    def hold_first(route: Any) -> None:
        if held:
            route.continue_()
        else:
            held.append((route, route.fetch()))

    page.route("**/v1/console", hold_first)
    page.evaluate("() => { load(); }")
    while not held:
        page.wait_for_timeout(20)

    false_report = row.get_by_role("button", name=re.compile("False report"))
    page.once("dialog", lambda d: d.accept())
    false_report.focus()
    page.keyboard.press("Enter")
    row.wait_for(state="detached")
    route, stale = held[0]
    with page.expect_request_finished(lambda r: r.url.endswith("/v1/console")):
        route.fulfill(response=stale)
    page.evaluate("() => new Promise((r) => setTimeout(r, 50))")
    assert page.locator("#incidents tr", has_text=CLINIC_ADDRESS).count() == 0
    page.locator("#tasks tr", has_text=CLINIC_ADDRESS).wait_for(state="detached")

    resolved = city.get("/v1/incidents?state=all", city.operator).json()["incidents"]
    mine = next(i for i in resolved if i["id"] == incident["id"])
    assert (mine["state"], mine["resolution"]) == ("resolved", "false_report")
    assert city.get("/v1/tasks", city.patrol).json()["tasks"] == []
    tab.only_own_origin()


def test_patrol_takes_the_task_on_a_phone_and_records_the_door_forced_open(
    browser: Any, city: City, tabs: list[Tab]
) -> None:
    city.start_alert()
    city.report_clinic_locked()
    incident = city.open_incident()
    assert city.post(f"/v1/incidents/{incident['id']}/dispatch", city.operator).status_code == 200

    tab = open_tab(browser, city, tabs, viewport={"width": 390, "height": 844},
                   is_mobile=True, has_touch=True, locale="uk-UA",
                   permissions=["geolocation"],
                   geolocation={"latitude": city.clinic.lat, "longitude": city.clinic.lon})
    page = tab.page
    page.goto("/patrol")
    token_field = page.get_by_label(re.compile("Patrol token"))
    assert in_both_languages(page.locator("label[for='token']").inner_text())
    sign_in_by_keyboard(page, city.operator)  # a token, but not a patrol's
    page.get_by_role("alert").wait_for()
    assert "This is not a patrol's token" in page.get_by_role("alert").inner_text()
    token_field.fill(city.patrol)
    token_field.press("Enter")
    page.wait_for_selector("#login", state="hidden")
    assert "Десна 12" in page.locator("#unit").inner_text()

    card = page.locator(".task.open_locked", has_text=CLINIC_ADDRESS)
    card.wait_for()
    assert "ВІДЧИНИТИ" in card.inner_text() and "OPEN LOCKED DOOR" in card.inner_text()
    assert page.evaluate(UNNAMED_CONTROLS) == []
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the phone page scrolls sideways"

    take = card.get_by_role("button", name=re.compile("Take"))
    take.focus()
    page.keyboard.press("Enter")
    card = page.locator(".task.open_locked", has_text="В дорозі / On the way")
    card.wait_for()
    assert "The task is yours" in page.locator("#msg").inner_text()
    assert card.get_by_role("button", name=re.compile("Take")).count() == 0
    assert page.evaluate("document.activeElement.dataset.key").startswith("open:")

    card.get_by_role("button", name=re.compile("Forced")).click()
    card.wait_for(state="detached")
    assert "Recorded" in page.locator("#msg").inner_text()

    def status() -> str:
        return str(city.get(f"/v1/shelters/{city.clinic.id}").json()["properties"]["status"])

    wait_for(lambda: status() == "forced_open", timeout_s=5, what="the public status")
    resolved = city.get("/v1/incidents?state=all", city.operator).json()["incidents"]
    mine = next(i for i in resolved if i["id"] == incident["id"])
    assert (mine["state"], mine["resolution"]) == ("resolved", "forced_open")
    unit = city.get("/v1/patrols", city.operator).json()["units"][0]
    assert (round(unit["lat"], 4), round(unit["lon"], 4)) == (
        round(city.clinic.lat, 4), round(city.clinic.lon, 4))
    tab.only_own_origin()


def test_operator_quarantines_a_flooding_source_with_one_click_and_releases_it(
    browser: Any, city: City, tabs: list[Tab], kyiv_settings: Settings
) -> None:
    city.start_alert()
    with db.reading(kyiv_settings.database_url) as s:
        others = s.execute(select(Shelter).where(Shelter.area_id.in_(("31", city.clinic.area_id)),
                                                 Shelter.id != city.clinic.id)
                           .order_by(Shelter.id).limit(2)).scalars().all()
        doors = [(d.id, d.lat, d.lon) for d in (city.clinic, *others)]
    for n, (shelter_id, lat, lon) in enumerate(doors):  # one client, three doors, fresh ids
        r = city.post("/v1/reports", shelter_id=shelter_id, kind="locked", lat=lat, lon=lon,
                      device_id=f"made-up-phone-{n:04d}")
        assert r.status_code == 201, r.text
    tab = open_tab(browser, city, tabs, viewport={"width": 1280, "height": 800},
                   locale="en-GB")
    page = tab.page
    page.on("dialog", lambda dialog: dialog.accept())  # "set aside every report …?"
    page.goto("/console")
    sign_in_by_keyboard(page, city.operator)
    row = page.locator("#sources tr", has_text="3 shelters")
    row.wait_for()
    assert "one person is at one door" in row.inner_text()
    page.locator("#incidents tr", has_text=CLINIC_ADDRESS).wait_for()

    row.get_by_role("button", name=re.compile("Quarantine")).click()
    page.locator("#sources tr", has_text="quarantined").wait_for()
    page.wait_for_function(
        "!document.querySelector('#incidents').textContent.includes("
        f"{CLINIC_ADDRESS!r})")  # only this source saw it locked: the case is closed
    status = city.get(f"/v1/shelters/{city.clinic.id}").json()["properties"]
    assert status["status"] == "unknown"
    assert "quarantined their source" in status["status_explanation"]["en"]

    page.locator("#sources tr").get_by_role("button", name=re.compile("Release")).click()
    wait_for(lambda: city.get(f"/v1/shelters/{city.clinic.id}").json()["properties"]["status"]
             == "locked_reported")
    page.locator("#sources tr").get_by_role("button", name=re.compile("Quarantine")).wait_for()
    assert page.evaluate(UNNAMED_CONTROLS) == []
    tab.only_own_origin()
