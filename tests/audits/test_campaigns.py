"""A campaign over the Kyiv registry: split among groups, watched per district and day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from shelterwatch import db
from shelterwatch.audits import campaigns
from shelterwatch.clock import utcnow
from shelterwatch.config import get_settings
from tests.audits.support import all_pass, b64, png


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_campaign_is_split_watched_and_its_overdue_audits_listed(
        kyiv_client: TestClient, make_token: Callable[..., str]) -> None:
    client = kyiv_client
    operator, auditor = make_token("operator"), make_token("auditor")
    deadline = utcnow() + timedelta(days=9)
    made = client.post("/v1/campaigns", headers=_auth(operator), json={
        "name": "Kyiv, June", "area_id": "31", "kinds": [], "deadline": deadline.isoformat(),
        "groups": ["group 1", "group 2", "group 3"]})
    assert made.status_code == 201, made.text
    campaign = made.json()
    assert campaign["shelters"] == 3694
    assert sorted(campaign["groups"].values()) == [1231, 1231, 1232]

    work = client.get(f"/v1/campaigns/{campaign['id']}/worklist", headers=_auth(auditor),
                      params={"group": "group 1"}).json()["shelters"]
    assert len(work) == campaign["groups"]["group 1"] and {s["group"] for s in work} == {"group 1"}
    checklist = client.get("/v1/checklist").json()
    first, second = work[0], work[1]
    audits: list[dict[str, Any]] = [
        {"shelter_id": first["id"], "answers": all_pass(checklist, first["kind"])},
        {"shelter_id": second["id"],
         "answers": all_pass(checklist, second["kind"]) | {"open_on_arrival": "fail"},
         "photos": [{"item_id": "open_on_arrival", "data": b64(png(7))}]}]
    for body in audits:
        r = client.post("/v1/audits", headers=_auth(auditor),
                        json={"tier": "full", "campaign_id": campaign["id"], **body})
        assert r.status_code == 201, r.text
    outsider = client.post("/v1/audits", headers=_auth(auditor), json={
        "tier": "full", "campaign_id": campaign["id"] + 1, **audits[0]})
    assert outsider.status_code == 422 and "not in campaign" in outsider.json()["detail"]

    progress = client.get(f"/v1/campaigns/{campaign['id']}/progress",
                          headers=_auth(operator)).json()
    assert sum(d["shelters"] for d in progress["districts"]) == 3694
    assert sum(d["inspected"] for d in progress["districts"]) == 2
    today = progress["days"]
    assert sum(d["inspected"] for d in today) == 2
    assert sum(d["closed"] for d in today) == 1 and sum(d["not_ready"] for d in today) == 1
    kyiv_today = utcnow().astimezone(ZoneInfo("Europe/Kyiv")).date().isoformat()
    assert {d["day"] for d in today} == {kyiv_today}  # the city's calendar day, not UTC's

    backlog = client.get(f"/v1/campaigns/{campaign['id']}/backlog",
                         headers=_auth(operator)).json()
    assert backlog["overdue"] == 0  # before the deadline nothing is overdue yet
    with db.reading(get_settings().database_url) as session:
        late = campaigns.backlog(session, campaign["id"], now=deadline + timedelta(days=1),
                                 limit=5)
        quarter = campaigns.backlog(session, campaign["id"],
                                    now=deadline + timedelta(days=95), limit=5)
    assert late["overdue"] == 3694 - 2
    assert quarter["overdue"] == 3694  # the two audited ones are due again after a quarter
    assert quarter["shelters"][0]["last_full_audit"] is None


def test_a_campaign_needs_an_operator_and_a_real_area(
        kyiv_client: TestClient, make_token: Callable[..., str]) -> None:
    body = {"name": "x", "area_id": "no-such", "deadline": "2099-01-01T00:00:00Z",
            "groups": ["a"]}
    assert kyiv_client.post("/v1/campaigns", headers=_auth(make_token("auditor")),
                            json=body).status_code == 403
    r = kyiv_client.post("/v1/campaigns", headers=_auth(make_token("operator")), json=body)
    assert r.status_code == 404


def test_a_day_is_the_citys_calendar_day() -> None:
    zone = ZoneInfo("Europe/Kyiv")
    assert campaigns._day_in(zone, "2023-06-01 21") == "2023-06-02"  # 00:00 EEST
    assert campaigns._day_in(zone, "2023-12-01 21") == "2023-12-01"  # 23:00 EET
