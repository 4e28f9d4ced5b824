"""The residents' Telegram bot against a local server speaking the Bot API."""

from __future__ import annotations

import copy
import time

import orjson
from sqlalchemy import select

from shelterwatch import db
from shelterwatch.auth import service as auth
from shelterwatch.clock import utcnow
from shelterwatch.keyholders import service as keyholders
from shelterwatch.log.models import Fact
from shelterwatch.outbox.models import Delivery
from shelterwatch.patrols import service as patrols
from shelterwatch.shelters.models import Shelter
from shelterwatch.worker.runner import Worker
from tests.channels.bot_api import fixture
from tests.channels.conftest import Town
from tests.escalation.support import wait_for
from tests.notify.receivers import http_receiver
from tests.reports.helpers import Place, bearer, token

CHAT = "5012345678"


def location_update(lat: float, lon: float, update_id: int = 734529871,
                    language: str = "uk") -> dict:
    update = copy.deepcopy(fixture("update_location"))
    update["update_id"] = update_id
    update["message"]["location"] = {"latitude": lat, "longitude": lon}
    update["message"]["from"]["language_code"] = language
    return update


def tap(data: str, update_id: int = 734529873, query_id: str = "2152639484193481721") -> dict:
    update = copy.deepcopy(fixture("update_callback_query"))
    update["update_id"], update["callback_query"]["id"] = update_id, query_id
    update["callback_query"]["data"] = data
    return update


def clinic(town: Town) -> Place:
    """ЦПМСД № 4 at вул. Курчатова, 18-А, the door of the seed night."""
    with db.reading(town.settings.database_url) as s:
        row = s.execute(select(Shelter).where(
            Shelter.address.contains("вул. Курчатова, 18-А"))).scalars().one()
        return Place(row.id, row.lat, row.lon, row.area_id)


def test_a_shared_location_gets_the_same_three_shelters_as_the_web(town: Town) -> None:
    lat, lon = 50.476612, 30.631309
    web = town.client.get("/v1/nearest", params={"lat": lat, "lon": lon}).json()["results"]
    assert town.update(location_update(lat, lon)).json() == {"ok": True, "queued": 6}
    town.drain(6)
    pins = town.api.sent("sendLocation")
    cards = town.api.sent("sendMessage")
    assert [(p.params["latitude"], p.params["longitude"]) for p in pins] == [
        (r["shelter"]["geometry"]["coordinates"][1], r["shelter"]["geometry"]["coordinates"][0])
        for r in web]
    for card, result in zip(cards, web, strict=True):
        assert card.params["chat_id"] == CHAT
        text = card.params["text"]
        assert f"#{result['shelter']['properties']['id']}" in text
        assert f"{max(1, round(result['walk_s'] / 60))} хв пішки" in text
        assert result["why"]["uk"] in text
        buttons = [b["callback_data"] for row in card.params["reply_markup"]["inline_keyboard"]
                   for b in row]
        sid = result["shelter"]["properties"]["id"]
        assert [f"r:{sid}:{k}" for k in ("locked", "refused", "full", "unfit", "missing")] == \
            buttons[:5]
    # pin before card, shelter by shelter, in the web's order
    assert [c.method for c in town.api.calls] == ["sendLocation", "sendMessage"] * 3


def test_english_speakers_get_english(town: Town) -> None:
    town.update(location_update(50.476612, 30.631309, language="en"))
    town.drain(6)
    first = town.api.texts()[0]
    assert "No alert now." in first and "min walk" in first


def test_a_redelivered_update_is_answered_once(town: Town) -> None:
    update = location_update(50.476612, 30.631309)
    town.update(update)
    town.update(update)  # Telegram retries when it did not see our 200 in time
    town.drain(6)
    assert len(town.api.sent("sendMessage")) == 3


def test_the_webhook_refuses_a_wrong_secret_and_a_malformed_update(town: Town) -> None:
    wrong = town.update(location_update(50.47, 30.63), secret="guess")
    assert wrong.status_code == 401
    assert wrong.headers["content-type"].startswith("application/problem+json")
    missing = town.client.post("/v1/channels/telegram/webhook", json={"update_id": 1})
    assert missing.status_code == 401
    bad = town.update({"message": "hello"})
    assert bad.status_code == 422 and "update_id" in bad.json()["detail"]
    assert town.deliver() == 0 and town.api.calls == []


def test_flood_control_429_is_honoured_before_sending_again(town: Town) -> None:
    town.api.scripted["sendMessage"] = ["error_429"]  # retry_after: 1
    town.update(fixture("update_start"))
    assert town.deliver() == 1
    first = town.api.sent("sendMessage")[0]
    with db.reading(town.settings.database_url) as s:
        (row,) = s.execute(select(Delivery)).scalars()
        assert row.state == "pending" and row.attempts == 0  # pacing, not a failure
        assert "429" in (row.last_error or "")
    deadline = time.monotonic() + 5
    while len(town.api.sent("sendMessage")) < 2 and time.monotonic() < deadline:
        town.deliver()
        time.sleep(0.05)
    again = town.api.sent("sendMessage")[1]
    assert again.at - first.at >= 1.0
    assert again.params["text"] == first.params["text"]
    with db.reading(town.settings.database_url) as s:
        assert s.execute(select(Delivery.state)).scalar_one() == "sent"


def test_a_chat_is_paced_to_telegrams_per_chat_limit(town: Town) -> None:
    town.update(location_update(50.476612, 30.631309))
    town.drain(6)
    with db.reading(town.settings.database_url) as s:
        rows = s.execute(select(Delivery).order_by(Delivery.id)).scalars().all()
        held = [(r.next_attempt_at - r.created_at).total_seconds() for r in rows]
    burst = town.settings.telegram_chat_burst
    assert held[:burst] == [0.0] * burst  # a short burst goes at once …
    for n, seconds in enumerate(held[burst:], start=1):  # … then one a second to this chat
        assert seconds >= n / town.settings.telegram_chat_rate_per_s - 0.01


def test_a_tap_on_locked_opens_the_same_case_as_a_web_report_and_the_chat_hears_its_news(
        town: Town) -> None:
    url = town.settings.database_url
    door = clinic(town)
    operator = token(url, "operator")
    with http_receiver() as hooks:
        with db.transaction(url) as s:
            unit_token, patrol = auth.create(s, role="patrol", name="Desna 12", now=utcnow())
            patrols.create_unit(s, name="Desna 12", token_id=unit_token.id, lat=50.4850,
                                lon=30.6280, now=utcnow(), actor="test")
            keyholders.create_keyholder(
                s, contact=keyholders.ContactIn(name="Clinic keyholder",
                                                webhook=hooks.url + "/keyholder"),
                shelter_ids=[door.id], now=utcnow(), actor="test")
        keyholder = token(url, "keyholder", (door.id,))
        worker = Worker(town.settings.model_copy(
            update={"notify_channels": ("webhook", "telegram")})).start()
        try:
            assert town.client.post("/v1/alerts", json={"area_id": "31", "type": "air_raid"},
                                    headers=bearer(operator)).status_code == 201
            assert town.update(tap(f"r:{door.id}:locked")).status_code == 200
            receipt = wait_for(lambda: [t for t in town.api.texts() if "Квитанція" in t],
                               what="receipt in the chat")[0]
            tracking_id = receipt.split("\n")[0].split()[-1]
            assert f"Випадок {tracking_id} відкрито" in receipt
            toast = wait_for(lambda: town.api.sent("answerCallbackQuery"), what="toast")[0]
            assert toast.params["callback_query_id"] == "2152639484193481721"
            assert tracking_id in toast.params["text"]

            web = town.client.post("/v1/reports", json={
                "shelter_id": door.id, "kind": "locked", "device_id": "web-phone-0001",
                "lat": door.lat, "lon": door.lon}).json()
            assert web["incident"]["tracking_id"] == tracking_id  # one case, "me too"
            assert web["incident"]["me_too"] == 1

            wait_for(lambda: [t for t in town.api.texts()
                              if "повідомлення ключнику доставлено" in t], what="keyholder news")
            tasks = town.client.get("/v1/tasks", headers=bearer(patrol)).json()["tasks"]
            task = next(t for t in tasks if t["kind"] == "open_locked")
            assert town.client.post(f"/v1/tasks/{task['id']}/take",
                                    headers=bearer(patrol)).status_code == 200
            wait_for(lambda: [t for t in town.api.texts() if "патруль узяв завдання" in t],
                     what="patrol news")
            assert town.client.post("/v1/checks", json={"shelter_id": door.id, "kind": "open"},
                                    headers=bearer(keyholder)).status_code == 201
            wait_for(lambda: [t for t in town.api.texts()
                              if f"Випадок {tracking_id}: ключник зафіксував" in t],
                     what="door open news")
        finally:
            worker.stop()
    # The chat id is private: not in the public log, the report's page or the pack.
    public = (town.client.get("/v1/log").text + town.client.get(f"/v1/reports/{tracking_id}").text
              + town.client.get("/v1/pack").text)
    assert CHAT not in public
    with db.reading(url) as s:
        payloads = [f.payload for f in s.execute(select(Fact)).scalars()]
    assert not any(CHAT in p for p in payloads)


def test_subscribe_to_an_area_and_hear_the_alert_start_and_end(town: Town) -> None:
    url = town.settings.database_url
    operator = token(url, "operator")
    update = copy.deepcopy(fixture("update_start"))
    update["message"]["text"] = "/subscribe 31"
    town.update(update)
    worker = Worker(town.settings.model_copy(update={"notify_channels": ("telegram",)})).start()
    try:
        started = town.client.post("/v1/alerts", json={"area_id": "31", "type": "air_raid"},
                                   headers=bearer(operator)).json()
        wait_for(lambda: [t for t in town.api.texts() if "Повітряна тривога" in t],
                 what="alert start")
        town.client.post(f"/v1/alerts/{started['id']}/end", headers=bearer(operator))
        wait_for(lambda: [t for t in town.api.texts() if "Відбій тривоги" in t],
                 what="alert end")
    finally:
        worker.stop()
    with db.reading(url) as s:
        broadcast = [orjson.loads(f.payload) for f in s.execute(
            select(Fact).where(Fact.kind == "notification.broadcast_queued")).scalars()]
    assert [b["count"] for b in broadcast] == [1, 1]


def test_the_door_signs_qr_code_opens_the_bot_on_that_shelter(town: Town) -> None:
    door = clinic(town)
    update = copy.deepcopy(fixture("update_start"))
    update["message"]["text"] = f"/start s{door.id}"
    town.update(update)
    town.drain(2)
    pin, card = town.api.calls
    assert (pin.method, pin.params["latitude"], pin.params["longitude"]) == (
        "sendLocation", door.lat, door.lon)
    assert f"#{door.id}" in card.params["text"]
    assert card.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == \
        f"r:{door.id}:locked"
