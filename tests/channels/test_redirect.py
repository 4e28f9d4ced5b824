"""A chat on its way to a shelter hears, first of everything, that it was just reported locked
and where to go instead — as a browser subscribed to push does."""

from __future__ import annotations

import copy
from datetime import timedelta

from sqlalchemy import func, select

from shelterwatch import db
from shelterwatch.channels import service as follows
from shelterwatch.channels.models import Follow
from shelterwatch.clock import utcnow
from shelterwatch.outbox.models import Delivery
from shelterwatch.outbox.service import Priority
from shelterwatch.worker.runner import Worker
from tests.channels.conftest import Town
from tests.channels.test_telegram import CHAT, clinic, location_update
from tests.escalation.support import wait_for
from tests.reports.helpers import bearer, token

FAR_CHAT = 5098765432
LOCKED_UK = "щойно повідомили як зачинене"


def located(lat: float, lon: float, chat_id: int, update_id: int) -> dict:
    update = copy.deepcopy(location_update(lat, lon, update_id=update_id))
    update["message"]["chat"]["id"] = update["message"]["from"]["id"] = chat_id
    return update


def shown_to(town: Town, chat_id: str) -> set[int]:
    with db.reading(town.settings.database_url) as s:
        subjects = s.execute(select(Follow.subject).where(
            Follow.address == chat_id, Follow.subject.startswith(follows.SHOWN))).scalars()
        return {int(x.removeprefix(follows.SHOWN)) for x in subjects}


def test_a_chat_shown_a_door_hears_it_was_reported_locked_and_where_to_go_instead(
        town: Town) -> None:
    door = clinic(town)
    town.update(location_update(door.lat + 0.0003, door.lon))
    town.update(located(50.4600, 30.5950, FAR_CHAT, update_id=734529990))
    assert door.id in shown_to(town, CHAT)
    assert door.id not in shown_to(town, str(FAR_CHAT))
    operator = token(town.settings.database_url, "operator")
    worker = Worker(town.settings.model_copy(update={"notify_channels": ("telegram",)})).start()
    try:
        town.client.post("/v1/alerts", json={"area_id": "31", "type": "air_raid"},
                         headers=bearer(operator))
        receipt = town.client.post("/v1/reports", json={
            "shelter_id": door.id, "kind": "locked", "device_id": "web-phone-0002",
            "lat": door.lat, "lon": door.lon}).json()
        assert receipt["status"] == "locked_reported"
        redirect = wait_for(lambda: [c for c in town.api.sent("sendMessage")
                                     if LOCKED_UK in c.params["text"]],
                            what="the redirect in the chat")[0]
    finally:
        worker.stop()
    assert redirect.params["chat_id"] == CHAT
    text = redirect.params["text"]
    assert f"Укриття #{door.id}, яке вам показали" in text
    # X is where the ranking sends someone standing at this door, now that it is locked
    from_door = town.client.get("/v1/nearest", params={"lat": door.lat, "lon": door.lon,
                                                       "limit": 5}).json()["results"]
    best = next(r for r in from_door if r["shelter"]["properties"]["id"] != door.id
                and r["status"] not in ("locked_reported", "locked_confirmed"))
    assert f"ідіть до {best['shelter']['properties']['address']} " \
           f"#{best['shelter']['properties']['id']}" in text
    # only the chat that was shown this door hears of it, and ahead of everything else queued
    assert not [c for c in town.api.sent("sendMessage")
                if c.params["chat_id"] == str(FAR_CHAT) and LOCKED_UK in c.params["text"]]
    with db.reading(town.settings.database_url) as s:
        priority = s.execute(select(Delivery.priority).where(
            Delivery.step == "redirect")).scalar_one()
        top = s.execute(select(func.max(Delivery.priority)).where(
            Delivery.channel == "telegram")).scalar_one()
    assert priority == Priority.REDIRECT == top


def test_a_door_shown_over_an_hour_ago_sends_no_redirect_and_is_forgotten(town: Town) -> None:
    door = clinic(town)
    town.update(location_update(door.lat, door.lon))
    url, secret = town.settings.database_url, town.settings.secret_key
    later = utcnow() + timedelta(seconds=town.settings.push_shown_window_s + 1)
    with db.transaction(url) as s:
        assert follows.redirect(s, shelter_id=door.id, status="locked_reported", instead=None,
                                seq=1, now=later, secret=secret) == 0
        assert follows.forget_expired(s, now=later) == 3
    assert shown_to(town, CHAT) == set()


def test_showing_a_door_again_renews_it_rather_than_adding_a_row(town: Town) -> None:
    door = clinic(town)
    town.update(location_update(door.lat, door.lon))
    town.update(location_update(door.lat, door.lon, update_id=734529999))
    with db.reading(town.settings.database_url) as s:
        rows = s.execute(select(Follow).where(
            Follow.subject == f"{follows.SHOWN}{door.id}")).scalars().all()
    assert len(rows) == 1
    with db.transaction(town.settings.database_url) as s:
        queued = follows.redirect(s, shelter_id=door.id, status="locked_reported", instead=None,
                                  seq=2, now=utcnow(), secret=town.settings.secret_key)
    assert queued == 1
