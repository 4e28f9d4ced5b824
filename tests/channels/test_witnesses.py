"""A Telegram chat and an SMS sender are witnesses as an issued device id is: each counts once,
one of them cannot speak for many doors, and neither ever shows in a public answer."""

from __future__ import annotations

import copy
import re

import orjson
from sqlalchemy import select

from shelterwatch import db
from shelterwatch.channels import service as follows
from shelterwatch.log.models import Fact
from shelterwatch.observations.models import Observation
from shelterwatch.outbox.models import Delivery
from shelterwatch.shelters.models import Shelter
from tests.channels.bot_api import fixture
from tests.channels.conftest import Town
from tests.channels.test_sms import PHONE, TRACKING, sms
from tests.channels.test_telegram import CHAT, clinic, location_update, tap
from tests.escalation.support import wait_for

OTHER_CHAT = 5098765432


def doors(town: Town, n: int) -> list[int]:
    with db.reading(town.settings.database_url) as s:
        return list(s.execute(select(Shelter.id).order_by(Shelter.id).limit(n)).scalars())


def from_chat(update: dict, chat_id: int) -> dict:
    update = copy.deepcopy(update)
    update["callback_query"]["from"]["id"] = chat_id
    update["callback_query"]["message"]["chat"]["id"] = chat_id
    return update


def chat_replies(town: Town, chat_id: str = CHAT) -> list[str]:
    """The messages queued to a chat, oldest first (what the outbox will send it)."""
    with db.reading(town.settings.database_url) as s:
        rows = s.execute(select(Delivery).where(Delivery.channel == "telegram",
                                                Delivery.address == chat_id)
                         .order_by(Delivery.id)).scalars().all()
        return [r.body for r in rows
                if orjson.loads(r.data)["telegram"]["method"] == "sendMessage"]


def reporters(town: Town) -> dict[str, str]:
    with db.reading(town.settings.database_url) as s:
        return {o.id: o.reporter for o in s.execute(select(Observation)).scalars()}


def test_one_chat_speaks_for_at_most_three_doors_an_hour(town: Town) -> None:
    first, second, third, fourth = doors(town, 4)
    for n, door in enumerate((first, second, third, fourth)):
        town.update(tap(f"r:{door}:locked", update_id=800 + n, query_id=f"q-{n}"))
    replies = chat_replies(town)
    receipts = [t for t in replies if t.startswith("Квитанція")]
    assert len(receipts) == 3
    refusal = replies[-1]
    assert refusal.startswith("Не вдалося прийняти повідомлення")
    assert "this Telegram chat reported about 3 different shelters" in refusal
    # the three recorded reports are one witness: the chat's keyed digest, never its id
    (who,) = set(reporters(town).values())
    assert who.startswith("c:") and CHAT not in who
    # a report about a door it already spoke of is still taken
    town.update(tap(f"r:{first}:locked", update_id=810, query_id="q-again"))
    assert chat_replies(town)[-1].startswith("Квитанція")


def test_two_chats_are_two_witnesses_and_one_chat_tapping_twice_is_one(town: Town) -> None:
    door = clinic(town)

    def status() -> str:
        return str(town.client.get(f"/v1/shelters/{door.id}").json()["properties"]["status"])

    town.update(tap(f"r:{door.id}:locked", update_id=901, query_id="a-1"))
    town.update(tap(f"r:{door.id}:locked", update_id=902, query_id="a-2"))
    town.update(tap(f"r:{door.id}:locked", update_id=903, query_id="a-3"))
    sms(town, f"ЗАЧИНЕНО {door.id}", id="gw-w-1")
    sms(town, f"ЗАЧИНЕНО {door.id}", id="gw-w-2")
    assert len(set(reporters(town).values())) == 2  # this chat, the phone
    assert wait_for(status, what="the reports counted") == "locked_reported"  # not confirmed
    town.update(from_chat(tap(f"r:{door.id}:locked", update_id=904, query_id="b-1"),
                          OTHER_CHAT))
    seen = list(reporters(town).values())
    assert len(seen) == 6 and len(set(seen)) == 3  # a third witness …
    assert all(r.startswith("c:") for r in seen)
    assert wait_for(lambda: status() == "locked_confirmed", what="confirmed")  # … confirms it


def test_one_phone_number_speaks_for_at_most_three_doors_an_hour(town: Town) -> None:
    answers = [sms(town, f"ЗАЧИНЕНО {door}", id=f"gw-s-{door}").json()["reply"]
               for door in doors(town, 4)]
    assert all(TRACKING.search(a) for a in answers[:3])
    assert "this phone number reported about 3 different shelters" in answers[3]
    (who,) = set(reporters(town).values())
    assert who.startswith("c:") and PHONE not in who and PHONE.lstrip("+") not in who


def test_a_chat_id_and_a_phone_number_never_leave_through_a_public_answer(town: Town) -> None:
    door = clinic(town)
    town.update(location_update(door.lat, door.lon))  # shown three shelters
    town.update(tap(f"r:{door.id}:locked", update_id=990, query_id="p-1"))
    subscribe = copy.deepcopy(fixture("update_start"))
    subscribe["message"]["text"] = "/subscribe 31"
    town.update(subscribe)
    reply = sms(town, f"ЗАЧИНЕНО {door.id}", id="gw-p-1").json()["reply"]
    tracking_ids = TRACKING.findall(reply) + [
        m for t in chat_replies(town) for m in TRACKING.findall(t)]
    assert tracking_ids
    secret = town.settings.secret_key
    private = [CHAT, PHONE, PHONE.lstrip("+"),
               follows.device_id(secret, "telegram", CHAT),
               follows.device_id(secret, "sms", PHONE),
               follows.digest(secret, "telegram", CHAT), follows.digest(secret, "sms", PHONE)]
    pages = [town.client.get("/v1/log").text, town.client.get("/v1/pack").text,
             town.client.get(f"/v1/shelters/{door.id}").text,
             town.client.get("/v1/nearest", params={"lat": door.lat, "lon": door.lon}).text,
             *(town.client.get(f"/v1/reports/{t}").text for t in set(tracking_ids)),
             *(town.client.get(f"/open311/v2/requests/{t}.json").text
               for t in set(tracking_ids))]
    for page in pages:
        for value in private:
            assert value not in page
    with db.reading(town.settings.database_url) as s:
        facts = s.execute(select(Fact.kind, Fact.payload)).all()
    kinds = {k for k, _ in facts}
    assert {"channel.shown", "channel.followed", "observation.recorded"} <= kinds
    for _, payload in facts:
        assert not any(re.search(re.escape(v), payload) for v in private)
