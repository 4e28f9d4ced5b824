"""Residents' SMS through the gateway's webhook: reports by door-sign number, nearest by address."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from shelterwatch import db
from shelterwatch.log.models import Fact
from shelterwatch.notify import gsm
from shelterwatch.observations.models import Observation
from tests.channels.conftest import Town
from tests.channels.test_telegram import clinic
from tests.reports.helpers import bearer, token

PHONE = "+380671234567"
TRACKING = re.compile(r"KV-[0-9A-Z]{4}-[0-9A-Z]{2}")


def sms(town: Town, text: str, secret: str = "gateway-secret", **extra: str):
    return town.client.post("/v1/channels/sms/inbound", json={"from": PHONE, "text": text,
                                                              **extra},
                            headers={"X-Gateway-Secret": secret})


def reports(town: Town) -> int:
    with db.reading(town.settings.database_url) as s:
        return s.execute(select(func.count()).select_from(Observation)).scalar_one()


def sent_sms(town: Town) -> list[dict]:
    town.deliver()
    return [r.json() for r in town.gateway.requests]


def test_locked_by_sms_during_an_alert_creates_a_report_and_answers_its_tracking_id(
        town: Town) -> None:
    door = clinic(town)
    operator = token(town.settings.database_url, "operator")
    town.client.post("/v1/alerts", json={"area_id": "31", "type": "air_raid"},
                     headers=bearer(operator))
    answer = sms(town, f"ЗАЧИНЕНО {door.id}", id="gw-msg-1")
    assert answer.status_code == 200, answer.text
    tracking_id = TRACKING.search(answer.json()["reply"]).group()
    story = town.client.get(f"/v1/reports/{tracking_id}").json()
    assert story["shelter"]["id"] == door.id and story["kind"] == "locked"
    assert story["incident"]["tracking_id"] == tracking_id
    (sent,) = sent_sms(town)
    assert sent["to"] == PHONE and tracking_id in sent["text"]
    assert "Не чекайте біля дверей: ідіть до" in sent["text"]  # the other door, written out
    assert "мапі" not in sent["text"]  # a push-button phone has no map
    assert sent["encoding"] == "ucs2" and len(sent["parts"]) > 1
    assert "".join(sent["parts"]) == sent["text"]
    assert all(gsm.length(p, "ucs2") <= 67 for p in sent["parts"])
    # the phone number is private: not in the public log, nor in any fact's public payload
    assert PHONE not in town.client.get("/v1/log").text
    with db.reading(town.settings.database_url) as s:
        assert not any(PHONE in p for p in s.execute(select(Fact.payload)).scalars())


def test_english_command_gets_an_english_receipt(town: Town) -> None:
    door = clinic(town)
    reply = sms(town, f"LOCKED {door.id}").json()["reply"]
    assert TRACKING.search(reply)
    assert "There is no alert now" in reply


def test_the_address_on_the_door_sign_finds_the_shelter(town: Town) -> None:
    door = clinic(town)
    reply = sms(town, "ЗАЧИНЕНО вул. Курчатова, 18-А").json()["reply"]
    tracking_id = TRACKING.search(reply).group()
    assert town.client.get(f"/v1/reports/{tracking_id}").json()["shelter"]["id"] == door.id


def test_a_malformed_sms_answers_with_the_syntax_and_changes_nothing(town: Town) -> None:
    before = reports(town)
    reply = sms(town, "допоможіть де укриття").json()["reply"]
    assert "ЗАЧИНЕНО <номер з таблички>" in reply and "НАЙБЛИЖЧЕ <вулиця, будинок>" in reply
    english = sms(town, "where").json()
    assert english["reply"].startswith("Shelters: send LOCKED <number on the sign>")
    assert english["encoding"] == "gsm7" and english["parts"] == 1
    assert sms(town, "LOCKED").json()["reply"] == english["reply"]  # no number: the syntax
    assert reports(town) == before


def test_nearest_to_an_address_answers_the_ranked_shelters_in_one_message(town: Town) -> None:
    door = clinic(town)
    body = sms(town, "НАЙБЛИЖЧЕ Курчатова 18-а").json()
    web = town.client.get("/v1/nearest", params={"lat": door.lat, "lon": door.lon}).json()
    ids = [int(i) for i in re.findall(r"#(\d+)", body["reply"])]
    assert ids == [r["shelter"]["properties"]["id"] for r in web["results"]]
    assert body["reply"].startswith("Найближчі до вул. Курчатова, 18-А")
    assert body["encoding"] == "ucs2"
    missing = sms(town, "НАЙБЛИЖЧЕ Неіснуюча 1").json()["reply"]
    assert missing.startswith("Адресу не знайдено")


def test_a_message_the_gateway_delivers_twice_is_reported_and_answered_once(town: Town) -> None:
    door = clinic(town)
    first = sms(town, f"ЗАЧИНЕНО {door.id}", id="gw-42").json()
    again = sms(town, f"ЗАЧИНЕНО {door.id}", id="gw-42").json()
    assert first == again
    assert len(sent_sms(town)) == 1


def test_the_gateway_must_prove_itself(town: Town) -> None:
    before = reports(town)
    assert sms(town, "ЗАЧИНЕНО 1", secret="wrong").status_code == 401
    assert town.client.post("/v1/channels/sms/inbound", json={"from": PHONE, "text": "x"}
                            ).status_code == 401
    bad = town.client.post("/v1/channels/sms/inbound", json={"text": "ЗАЧИНЕНО 1"},
                           headers={"X-Gateway-Secret": "gateway-secret"})
    assert bad.status_code == 422 and "`from`" in bad.json()["detail"]
    assert reports(town) == before
