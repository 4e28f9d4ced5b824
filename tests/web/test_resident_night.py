"""A resident's night on a phone, in headless Chromium against a real server and the Kyiv registry.

What a person sees first after "Locate me" at three screen sizes; the arrow to the door; an
address typed with a typo; a receipt that says nobody could be reached when nobody is registered;
the case page moving live; the offline banner during an alert; and axe-core on every page.
Screenshots are saved under each test's tmp dir.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shelterwatch import db
from shelterwatch.auth import service as auth
from shelterwatch.clock import utcnow
from tests.support.browser import launch
from tests.support.databases import Templates
from tests.support.server import LiveServer, kyiv_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TIMEOUT_MS = 20_000
HERE = (50.4501, 30.5234)  # Maidan Nezalezhnosti
SIZES = [(360, 640), (390, 844), (1366, 900)]
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


class Site:
    def __init__(self, server: LiveServer, url: str) -> None:
        self.server, self.url = server, url
        with db.transaction(url) as s:
            _, self.operator = auth.create(s, role="operator", name="Черговий", now=utcnow())
            _, self.patrol = auth.create(s, role="patrol", name="Патруль 3", now=utcnow())

    def post(self, path: str, body: dict[str, Any], token: str) -> httpx.Response:
        r = httpx.post(f"{self.server.url}{path}", json=body,
                       headers={"Authorization": f"Bearer {token}"})
        assert r.status_code in (200, 201), r.text
        return r

    def start_alert(self) -> int:
        return int(self.post("/v1/alerts", {"area_id": "31", "type": "air_raid",
                                            "threat": "ballistic"}, self.operator).json()["id"])

    def end_alert(self, alert_id: int) -> None:
        self.post(f"/v1/alerts/{alert_id}/end", {}, self.operator)


@pytest.fixture(scope="module")
def site(templates: Templates, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    # These pages are about the server's answers: a machine loaded by other tests must not send
    # the phones to their packs (tests/web/test_busy_server_page.py covers that).
    with kyiv_server(templates, tmp_path_factory.mktemp("resident-night"),
                     SHELTERWATCH_LOOKUPS_GIVE_WAY_AFTER_MS="0") as (server, url):
        yield Site(server, url)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch()


class Phone:
    """One browser context at a size, at a place, remembering every URL it asked for."""

    def __init__(self, browser: Any, site: Site, width: int, height: int,
                 place: tuple[float, float] = HERE) -> None:
        self.context = browser.new_context(
            base_url=site.server.url, viewport={"width": width, "height": height},
            locale="uk-UA", geolocation={"latitude": place[0], "longitude": place[1]},
            permissions=["geolocation"], has_touch=width < 900, is_mobile=width < 900)
        self.context.set_default_timeout(TIMEOUT_MS)
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page = self.context.new_page()
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.origin = site.server.url

    def open(self, path: str = "/") -> Any:
        self.page.goto(path)
        if path == "/":
            self.page.wait_for_selector("body[data-ready='1']")
        return self.page

    def locate(self) -> Any:
        self.page.click("#locate")
        self.page.wait_for_selector("#answer-card[data-shelter-id]")
        return self.page.locator("#answer-card")

    def only_own_origin(self) -> None:
        assert self.requests
        elsewhere = [u for u in self.requests if not u.startswith(self.origin + "/")]
        assert elsewhere == [], f"the page reached outside the app: {elsewhere}"
        assert self.errors == []


@pytest.fixture
def phones(browser: Any) -> Iterator[list[Phone]]:
    opened: list[Phone] = []
    yield opened
    for phone in opened:
        phone.context.close()


def phone(browser: Any, site: Site, phones: list[Phone], size: tuple[int, int] = (390, 844),
          place: tuple[float, float] = HERE) -> Phone:
    p = Phone(browser, site, *size, place=place)
    phones.append(p)
    return p


def inside_first_screen(page: Any, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    viewport = page.viewport_size
    banner = page.locator("#alert-banner").bounding_box()  # sticky: nothing may hide under it
    return (box is not None and box["y"] >= banner["y"] + banner["height"] - 1 and box["x"] >= 0
            and box["y"] + box["height"] <= viewport["height"]
            and box["x"] + box["width"] <= viewport["width"])


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_after_locate_the_top_shelter_its_status_and_go_fill_the_first_screen(
        browser: Any, site: Site, phones: list[Phone], size: tuple[int, int],
        tmp_path: Path) -> None:
    p = phone(browser, site, phones, size)
    page = p.open()
    card = p.locate()
    page.wait_for_timeout(300)  # the scroll to the answer
    page.screenshot(path=str(tmp_path / f"answer-{size[0]}x{size[1]}.png"))
    for part in ("#answer-card .name", "#answer-card .badge", "#answer-card a.go",
                 "#answer-card .walk", "#answer-card .reach"):
        assert inside_first_screen(page, part), part
    assert card.locator(".badge").inner_text() == "Стан невідомий"  # words, not only colour
    assert card.locator("a.go").get_attribute("href").startswith("geo:")
    assert card.locator("button.report-refused").inner_text() == "Не пускають"  # still one tap
    assert re.search(r"\d+ хв пішки", card.locator(".walk").inner_text())
    assert page.locator("#from").inner_text() == "Від вашого місця (GPS)."
    assert page.locator("#results li.result").count() == 2  # the alternatives follow
    # The map shows you and the numbered results, on the district outline (no tile server).
    numbers = page.locator(".num-marker .num").all_inner_texts()
    assert sorted(numbers) == ["1", "2", "3"]
    assert "межі районів" in page.locator("#map-note").inner_text()
    p.only_own_origin()


def bearing(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return (math.degrees(math.atan2(y, x)) + 360) % 360


def test_the_arrow_turns_with_the_compass_to_the_shelters_direction(
        browser: Any, site: Site, phones: list[Phone], tmp_path: Path) -> None:
    p = phone(browser, site, phones, (360, 640))
    page = p.open()
    p.locate()
    target = httpx.get(f"{site.server.url}/v1/nearest",
                       params={"lat": HERE[0], "lon": HERE[1]}).json()["results"][0]
    lon, lat = target["shelter"]["geometry"]["coordinates"]
    to_door = bearing(*HERE, lat, lon)
    direction = page.locator("#answer-card .direction")
    # No compass yet: the arrow points north-up at the bearing, and the words say where.
    assert abs(int(direction.get_attribute("data-bearing")) - round(to_door)) <= 1
    words = ["північ", "північний схід", "схід", "південний схід", "південь",
             "південний захід", "захід", "північний захід"][round(to_door / 45) % 8]
    assert direction.locator(".bearing").inner_text().endswith(f"на {words}")
    # The phone faces east (an absolute alpha of 270°): the arrow turns by -90°.
    page.evaluate("""window.dispatchEvent(Object.assign(new Event('deviceorientationabsolute'),
                     {alpha: 270, absolute: true}))""")
    page.wait_for_selector("#answer-card .direction[data-compass='live']")
    angle = int(page.locator("#answer-card .arrow").get_attribute("data-angle"))
    assert abs(angle - round((to_door - 90) % 360)) <= 1
    page.screenshot(path=str(tmp_path / "arrow-360x640.png"))
    # Walking towards the door, the distance counts down.
    before = int(direction.get_attribute("data-distance"))
    p.context.set_geolocation({"latitude": (HERE[0] + lat) / 2, "longitude": (HERE[1] + lon) / 2})
    page.wait_for_function(
        f"Number(document.querySelector('#answer-card .direction').dataset.distance) < {before}")


@pytest.mark.parametrize("typed", ["хрещятик 22", "Khreshchatyk 22"])
def test_an_address_typed_with_a_typo_or_in_latin_finds_the_street(
        browser: Any, site: Site, phones: list[Phone], typed: str) -> None:
    p = phone(browser, site, phones)
    page = p.open()
    page.fill("#search-input", typed)
    page.press("#search-input", "Enter")
    page.wait_for_selector("#answer-card[data-shelter-id]")
    assert "Хрещатик, 22" in page.locator("#from").inner_text()
    assert page.locator("#from").inner_text().startswith("Від знайденої адреси")
    p.only_own_origin()


@pytest.mark.parametrize(("typed", "found"), [
    ("Берестейський 105", "просп. Перемоги, 105 (тепер Берестейський проспект)"),
    ("Чикаленка 21", "вул. Пушкінська, 21 (тепер вулиця Євгена Чикаленка)"),
    ("Heroiv polku Azov 11", "вул. Малиновського Маршала, 11 (тепер вулиця Героїв полку «Азов»)"),
])
def test_a_street_by_its_new_name_finds_the_registrys_old_one(
        browser: Any, site: Site, phones: list[Phone], typed: str, found: str) -> None:
    """The 2022 registry says "просп. Перемоги"; the signs today say "Берестейський проспект"."""
    p = phone(browser, site, phones)
    page = p.open()
    page.wait_for_function("Gazetteer.find(state.shelters, 'Берестейський 1').length > 0")
    page.fill("#search-input", typed)
    page.press("#search-input", "Enter")
    page.wait_for_selector("#answer-card[data-shelter-id]")
    assert re.fullmatch(rf"Від знайденої адреси: м\. ?Київ, {re.escape(found)}\.",
                        page.locator("#from").inner_text())
    p.only_own_origin()


def test_the_door_signs_link_shows_that_shelter_first_then_the_alternatives(
        browser: Any, site: Site, phones: list[Phone], tmp_path: Path) -> None:
    target = httpx.get(f"{site.server.url}/v1/nearest",
                       params={"lat": 50.4580, "lon": 30.4900}).json()["results"][1]
    sid = target["shelter"]["id"]
    p = phone(browser, site, phones, (360, 640))
    page = p.page
    page.goto(f"/?shelter={sid}")
    page.wait_for_selector(f"#answer-card[data-shelter-id='{sid}']")
    page.wait_for_timeout(300)  # the scroll to the answer
    for part in ("#answer-card .name", "#answer-card .badge", "#answer-card a.go"):
        assert inside_first_screen(page, part), part
    assert page.locator("#from").inner_text().startswith("Укриття за посиланням: ")
    alternatives = page.locator("#results li.result")
    assert alternatives.count() == 2
    assert str(sid) not in alternatives.evaluate_all("els => els.map(e => e.dataset.shelterId)")
    page.screenshot(path=str(tmp_path / "sign-link-360x640.png"))
    # The card: the registry's date, what it does not say, and nobody responsible has checked.
    page.click("#answer-card details summary")
    card = page.locator("#answer-card details")
    assert "25 лют 2022" in card.inner_text()
    assert "у реєстрі не вказано" in card.inner_text()  # pets, entrances: the 2022 map is silent
    page.wait_for_selector("#answer-card [data-field='verified'][data-role='none']")
    # A keyholder opens it: the status and the card's last word change without a reload.
    keyholder = _token(site, "keyholder", (sid,))
    site.post("/v1/checks", {"shelter_id": sid, "kind": "open"}, keyholder)
    page.wait_for_selector(f"#answer-card[data-shelter-id='{sid}'][data-status='open_verified']")
    # The card the resident unfolded above stays unfolded as the news redraws it.
    verified = page.wait_for_selector("#answer-card [data-field='verified'][data-role='keyholder']")
    assert verified.inner_text().endswith(", ключник")
    p.only_own_origin()


def test_a_door_signs_link_to_a_shelter_reported_locked_still_shows_that_shelter_first(
        browser: Any, site: Site, phones: list[Phone]) -> None:
    """At the door the sign is on, the page says "the shelter in the link", so that shelter's
    card comes first even when its status ranks it below its neighbours."""
    target = httpx.get(f"{site.server.url}/v1/nearest",
                       params={"lat": 50.4450, "lon": 30.4450}).json()["results"][0]
    sid = target["shelter"]["id"]
    site.post("/v1/checks", {"shelter_id": sid, "kind": "locked"}, site.patrol)
    alert = site.start_alert()
    try:
        p = phone(browser, site, phones, (360, 640))
        page = p.page
        page.goto(f"/?shelter={sid}")
        page.wait_for_function("document.querySelector('#from').textContent.length > 0")
        page.wait_for_timeout(500)  # the server's ranking, after the phone's own
        assert page.locator("#from").inner_text().startswith("Укриття за посиланням: ")
        card = page.locator("#answer-card")
        assert card.get_attribute("data-shelter-id") == str(sid)
        assert (card.get_attribute("data-status") or "").startswith("locked")
        # The alert is in force: the card must not say there is none.
        assert card.locator(".reach").inner_text() == "Встигаєте до загрози"
        alternatives = page.locator("#results li.result")
        assert str(sid) not in alternatives.evaluate_all(
            "els => els.map(e => e.dataset.shelterId)")
        for part in ("#answer-card .name", "#answer-card .badge"):
            assert inside_first_screen(page, part), part
    finally:
        site.end_alert(alert)


def _token(site: Site, role: str, shelter_ids: tuple[int, ...]) -> str:
    with db.transaction(site.url) as s:
        _, plaintext = auth.create(s, role=role, name="Ключник", now=utcnow(),
                                   shelter_ids=shelter_ids)
    return plaintext


def test_with_no_keyholder_registered_the_receipt_says_nobody_could_be_reached(
        browser: Any, site: Site, phones: list[Phone], tmp_path: Path) -> None:
    alert = site.start_alert()
    try:
        p = phone(browser, site, phones, (390, 844), place=(50.4410, 30.5190))
        page = p.open()
        card = p.locate()
        card.locator("button.report-locked").click()
        # Four seconds to undo, then sent; the receipt then says who was reached.
        line = page.wait_for_selector(
            "#receipts li.receipt[data-state='sent'] [data-who='keyholder'][data-state='none']")
        assert "не вдалося" in line.inner_text()
        receipt = page.locator("#receipts li.receipt").first
        assert receipt.locator(".reach-list [data-state='sent']").count() == 0
        assert "сповіщено" not in receipt.inner_text()
        page.click("#lang")
        assert "nobody could be reached" in receipt.inner_text()
        # The reported shelter stays in view with its new status.
        page.screenshot(path=str(tmp_path / "receipt-390x844.png"), full_page=True)
        p.only_own_origin()
    finally:
        site.end_alert(alert)


def test_a_double_tap_sends_one_report_and_undo_sends_none(
        browser: Any, site: Site, phones: list[Phone]) -> None:
    p = phone(browser, site, phones, place=(50.4620, 30.5150))
    page = p.open()
    card = p.locate()
    card.locator("button.report-full").dblclick()
    assert page.locator("#receipts li.receipt").count() == 1
    page.wait_for_selector("#receipts li.receipt[data-state='sent']")
    card = page.locator("#answer-card")
    card.locator("button.report-unfit").click()
    page.locator("#receipts li.receipt").first.locator("button.undo").click()
    assert page.locator("#receipts li.receipt").first.get_attribute("data-state") == "undone"
    page.wait_for_timeout(4500)
    assert page.evaluate("JSON.parse(localStorage.getItem('shelterwatch.outbox'))") == []
    assert page.locator("#receipts li.receipt").first.get_attribute("data-state") == "undone"


def test_the_tracking_page_shows_each_state_of_the_case_as_it_happens(
        browser: Any, site: Site, phones: list[Phone], tmp_path: Path) -> None:
    alert = site.start_alert()
    try:
        target = httpx.get(f"{site.server.url}/v1/nearest",
                           params={"lat": 50.4300, "lon": 30.5400}).json()["results"][0]
        shelter_id = target["shelter"]["id"]
        report = httpx.post(f"{site.server.url}/v1/reports", json={
            "shelter_id": shelter_id, "kind": "locked", "device_id": "phone-track-1"}).json()
        tid = report["tracking_id"]
        p = phone(browser, site, phones, (390, 844))
        page = p.page
        page.goto(f"/t/{tid}")
        page.wait_for_selector("body[data-ready='1']")
        assert page.locator("#case").get_attribute("data-state") == "open"
        assert "відкритий" in page.locator("#case").inner_text()
        page.wait_for_selector("#reach [data-who='keyholder'][data-state='none']")
        page.screenshot(path=str(tmp_path / "track-open-390x844.png"))
        # A patrol forces the door: the page moves on by itself.
        site.post("/v1/checks", {"shelter_id": shelter_id, "kind": "forced_open"}, site.patrol)
        page.wait_for_selector("#case[data-state='resolved']")
        assert "рятувальники" in page.locator("#case").inner_text()
        case_id = httpx.get(f"{site.server.url}/v1/reports/{tid}").json()["incident"]["id"]
        dossier = page.locator("#dossier")
        assert dossier.is_visible() and "Досьє" in dossier.inner_text()
        assert dossier.get_attribute("href") == f"/dossiers/incident/{case_id}?lang=uk"
        page.wait_for_selector("#timeline li[data-event='incident.resolved']")
        assert re.search(r"\d\d:\d\d:\d\d", page.locator("#timeline time").first.inner_text())
        page.click("#lang")
        assert "Case" in page.locator("#case").inner_text()
        page.screenshot(path=str(tmp_path / "track-closed-390x844.png"))
        p.only_own_origin()
    finally:
        site.end_alert(alert)


def test_a_report_queued_offline_says_on_its_page_when_it_was_made(
        browser: Any, site: Site, phones: list[Phone]) -> None:
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    made = utcnow() - timedelta(minutes=12)
    report = httpx.post(f"{site.server.url}/v1/reports", json={
        "shelter_id": 5, "kind": "full", "device_id": "phone-queued-1",
        "made_at": made.isoformat()}).json()
    p = phone(browser, site, phones, (390, 844))
    p.page.goto(f"/t/{report['tracking_id']}")
    p.page.wait_for_selector("body[data-ready='1']")
    local = made.astimezone(ZoneInfo("Europe/Kyiv")).strftime("%H:%M")  # Kyiv time, not UTC
    assert f"зроблено о {local} без мережі, надіслано пізніше" in \
        p.page.locator("#timeline").inner_text()


def test_offline_during_an_alert_the_banner_shows_the_alert_and_its_age(
        browser: Any, site: Site, phones: list[Phone], tmp_path: Path) -> None:
    alert = site.start_alert()
    try:
        p = phone(browser, site, phones, (360, 640))
        page = p.open()
        page.wait_for_selector("#alert-banner.alarm")
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.reload()
        page.wait_for_selector("body[data-ready='1']")
        p.context.set_offline(True)
        page.reload()
        page.wait_for_selector("body[data-ready='1']")
        offline = page.locator("#offline-text").inner_text()
        assert "Остання відома тривога: Повітряна тривога" in offline
        assert re.search(r"відомо (щойно|\d+ хв тому)", offline)
        assert "alarm" in page.locator("#alert-banner").get_attribute("class")
        page.screenshot(path=str(tmp_path / "offline-alert-360x640.png"))
    finally:
        site.end_alert(alert)


PAGES = ["/", "/?shelter=1", "/about", "/docs", "/console", "/patrol"]


def test_axe_core_finds_no_serious_or_critical_violations_on_any_page(
        browser: Any, site: Site, phones: list[Phone]) -> None:
    assert AXE.exists(), "axe-core is installed by make (npm ci)"
    report = httpx.post(f"{site.server.url}/v1/reports", json={
        "shelter_id": 1, "kind": "full", "device_id": "phone-axe-01"}).json()
    found: dict[str, list[str]] = {}
    for path in [*PAGES, f"/t/{report['tracking_id']}", "answer"]:
        p = phone(browser, site, phones, (390, 844))
        if path == "answer":
            p.open("/")
            p.locate()
        else:
            p.page.goto(path)
            p.page.wait_for_load_state("networkidle")
        p.page.add_script_tag(path=str(AXE))
        result = p.page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        bad = [f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}"
               for v in result["violations"] if v["impact"] in ("serious", "critical")]
        if bad:
            found[path] = bad
    assert found == {}
