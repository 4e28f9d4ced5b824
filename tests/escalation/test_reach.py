"""What the receipt and the tracking page say about who was reached: only what happened."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from shelterwatch import db
from shelterwatch.clock import utcnow
from shelterwatch.config import Settings
from shelterwatch.escalation import service as escalation
from shelterwatch.keyholders import service as keyholders
from shelterwatch.log import service as log
from shelterwatch.notify import registry
from shelterwatch.outbox import service as outbox
from tests.notify.receivers import smtp_server
from tests.reports.helpers import bearer, kyiv_shelter, token


def _locked_during_alert(client: TestClient, url: str, offset: int = 0) -> tuple[int, str]:
    shelter = kyiv_shelter(url, offset)
    operator = token(url, "operator")
    started = client.post("/v1/alerts", json={"area_id": "31", "type": "air_raid",
                                              "threat": "ballistic"}, headers=bearer(operator))
    assert started.status_code == 201, started.text
    r = client.post("/v1/reports", json={"shelter_id": shelter.id, "kind": "locked",
                                         "device_id": "phone-0001", "lat": shelter.lat,
                                         "lon": shelter.lon})
    assert r.status_code == 201, r.text
    return shelter.id, r.json()["tracking_id"]


def _run_ladder(settings: Settings) -> None:
    now = utcnow()
    with db.transaction(settings.database_url) as s:
        escalation.on_facts(s, log.after(s, 0, limit=100_000), now=now)
    for _ in range(3):
        escalation.run_due(settings.database_url, settings=settings, clock=lambda: now)


def test_with_no_keyholder_registered_the_case_says_nobody_could_be_reached(
        kyiv_client: TestClient, kyiv_settings: Settings) -> None:
    _, tid = _locked_during_alert(kyiv_client, kyiv_settings.database_url)
    receipt_text = kyiv_client.get(f"/v1/reports/{tid}").json()
    assert receipt_text["incident"]["state"] == "open"
    _run_ladder(kyiv_settings)
    progress = kyiv_client.get(f"/v1/reports/{tid}/progress").json()
    lines = {line["who"]: line for line in progress["reach"]}
    assert lines["keyholder"]["state"] == "none"
    assert "nobody could be reached" in lines["keyholder"]["text"]["en"]
    assert "не вдалося" in lines["keyholder"]["text"]["uk"]
    # No patrol exists: the task waits, and the page does not pretend one is coming.
    assert lines["patrol"]["state"] == "no_unit"
    # The operator's rung is five minutes away: pending, with its time, not "notified".
    assert lines["operator"]["state"] == "due" and lines["operator"]["at"]
    assert not any(line["state"] == "sent" for line in progress["reach"])
    # The 201's words promise nothing the ladder has not done.
    body = kyiv_client.post("/v1/reports", json={
        "shelter_id": progress["shelter"]["id"], "kind": "locked", "device_id": "phone-0002"})
    assert "notified" not in body.json()["next_steps"]["en"]
    assert "being alerted" not in body.json()["next_steps"]["en"]


def test_a_keyholder_message_is_pending_until_the_mail_server_takes_it_then_sent_at_a_time(
        kyiv_client: TestClient, kyiv_settings: Settings) -> None:
    url = kyiv_settings.database_url
    shelter = kyiv_shelter(url, 3)
    with db.transaction(url) as s:
        keyholders.create_keyholder(s, contact=keyholders.ContactIn(
            name="k", email="keys@example.invalid"), shelter_ids=[shelter.id], now=utcnow(),
            actor="test")
    _, tid = _locked_during_alert(kyiv_client, url, 3)
    _run_ladder(kyiv_settings)
    pending = [line for line in kyiv_client.get(f"/v1/reports/{tid}/progress").json()["reach"]
               if line["who"] == "keyholder"]
    assert [(p["state"], p["channel"]) for p in pending] == [("pending", "email")]
    with smtp_server() as mailbox:
        channels = {"email": registry.load("email", kyiv_settings.model_copy(
            update={"smtp_url": mailbox.url}))}
        outbox.deliver_due(url, channels, clock=lambda: utcnow() + timedelta(seconds=1),
                           lease_s=30, max_attempts=3, backoff_base_s=1)
    # The alert's check-in request and the case's "reported locked" message.
    assert sorted(m["subject"][:7] for m in mailbox.messages) == ["Тривога", "Укриття"]
    sent = [line for line in kyiv_client.get(f"/v1/reports/{tid}/progress").json()["reach"]
            if line["who"] == "keyholder"]
    assert [(s["state"], s["channel"]) for s in sent] == [("sent", "email")]
    assert "was sent a message (e-mail) at" in sent[0]["text"]["en"]
    assert "keys@example.invalid" not in str(sent)


def test_a_no_shelter_nearby_tracking_id_resolves(kyiv_client: TestClient) -> None:
    r = kyiv_client.post("/open311/v2/requests.json", data={
        "service_code": "no_shelter_nearby", "lat": "50.51", "long": "30.60",
        "device_id": "phone-0009"})
    assert r.status_code in (200, 201), r.text
    tid = r.json()[0]["service_request_id"]
    story = kyiv_client.get(f"/v1/reports/{tid}")
    assert story.status_code == 200
    assert story.json()["kind"] == "no_shelter_nearby"
    assert kyiv_client.get(f"/t/{tid}").status_code == 200
    missing = kyiv_client.get("/v1/reports/KV-0000-00")
    assert missing.status_code == 404 and "look like" in missing.json()["detail"]


def test_entry_refused_during_an_alert_opens_a_case_and_says_so(
        kyiv_client: TestClient, kyiv_settings: Settings) -> None:
    url = kyiv_settings.database_url
    shelter = kyiv_shelter(url, 5)
    kyiv_client.post("/v1/alerts", json={"area_id": "31", "type": "air_raid"},
                     headers=bearer(token(url, "operator")))
    r = kyiv_client.post("/v1/reports", json={"shelter_id": shelter.id, "kind": "refused",
                                              "device_id": "phone-0042", "lat": shelter.lat,
                                              "lon": shelter.lon})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "refused_reported" and body["incident"]["state"] == "open"
    assert "entry refused" in body["status_explanation"]["en"]
    kyiv_client.app.state.follower.catch_up()  # type: ignore[attr-defined]
    nearest = kyiv_client.get("/v1/nearest", params={"lat": shelter.lat, "lon": shelter.lon})
    first = nearest.json()["results"][0]
    assert first["shelter"]["id"] != shelter.id  # ranked down like a locked door
    services = kyiv_client.get("/open311/v2/services.json").json()
    assert "shelter_refused" in [s["service_code"] for s in services]
