"""The phone's offline ranking (rank.js) answers what the server's /v1/nearest answers.

Both rank the same registry: the page ranks the offline pack it holds; the server its index. Where
they agree, a resident who loses the network mid-alert is sent to the same doors.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from shelterwatch import db
from shelterwatch.auth import service as auth
from shelterwatch.clock import utcnow
from shelterwatch.log import service as log
from tests.audits.support import all_pass, png
from tests.support.server import LiveServer
from tests.web.test_resident_page import browser, page, site  # noqa: F401  (the page's fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Centre, Podil, the left bank, the far south-east and the western edge of Kyiv.
POINTS = [(50.4501, 30.5234), (50.4650, 30.5150), (50.4520, 30.6150), (50.3950, 30.6350),
          (50.4550, 30.3700)]
PHONE = """([lat, lon, stepFree]) => Rank.rank(state.shelters, lat, lon, {
  walk: CONFIG.walk, pool: CONFIG.pool, statusClass: CONFIG.statusClass,
  fails: CONFIG.fails, statusOf,
  stepFree, warningS: null, limit: 3})"""


@pytest.mark.parametrize("step_free", [False, True])
def test_the_phone_ranks_the_pack_as_the_server_ranks_its_index(
        page: Any, site: tuple[LiveServer, str], step_free: bool) -> None:  # noqa: F811
    server, _ = site
    for lat, lon in POINTS:
        params: dict[str, Any] = {"lat": lat, "lon": lon, "limit": 3}
        if step_free:
            params["step_free"] = "true"
        served = httpx.get(f"{server.url}/v1/nearest", params=params, timeout=30).json()["results"]
        phone = page.evaluate(PHONE, [lat, lon, step_free])
        where = f"at {lat},{lon} step_free={step_free}"
        assert [r["shelter"]["id"] for r in phone] == [r["shelter"]["id"] for r in served], where
        assert [r["status"] for r in phone] == [r["status"] for r in served], where
        for mine, theirs in zip(phone, served, strict=True):
            assert abs(mine["distance_m"] - theirs["distance_m"]) <= 0.2, where
            assert abs(mine["walk_s"] - theirs["walk_s"]) <= 1, where


def test_the_phone_and_the_server_both_put_a_not_ready_shelter_after_its_class(
        page: Any, site: tuple[LiveServer, str]) -> None:  # noqa: F811
    server, url = site
    lat, lon = POINTS[0]
    before = httpx.get(f"{server.url}/v1/nearest", params={"lat": lat, "lon": lon},
                       timeout=30).json()["results"]
    nearest = before[0]["shelter"]
    with db.transaction(url) as s:
        _, token = auth.create(s, role="auditor", name="commission", now=utcnow())
    checklist = httpx.get(f"{server.url}/v1/checklist", timeout=30).json()
    answers = all_pass(checklist, nearest["properties"]["kind"]) | {"dry": "fail"}
    made = httpx.post(f"{server.url}/v1/audits", headers={"Authorization": f"Bearer {token}"},
                      json={"shelter_id": nearest["id"], "tier": "full", "answers": answers,
                            "photos": [{"item_id": "dry",
                                        "data": base64.b64encode(png(1)).decode()}]},
                      timeout=30)
    assert made.status_code == 201, made.text
    pack = httpx.get(f"{server.url}/v1/pack", timeout=30).json()
    entry = next(x for x in pack["shelters"] if x["id"] == nearest["id"])
    assert entry["readiness"]["category"] == "not_ready", entry
    # The page hears it on its event stream, without reloading.
    page.wait_for_function(f"state.shelters.some((s) => s.id === {nearest['id']} "
                           "&& s.readiness && s.readiness.category === 'not_ready')")
    served = httpx.get(f"{server.url}/v1/nearest", params={"lat": lat, "lon": lon, "limit": 3},
                       timeout=30).json()["results"]
    phone = page.evaluate(PHONE, [lat, lon, False])
    assert [r["shelter"]["id"] for r in phone] == [r["shelter"]["id"] for r in served]
    assert served[0]["shelter"]["id"] != nearest["id"]


def test_during_an_alert_both_put_a_door_reachable_in_time_before_a_far_checked_one(
        page: Any, site: tuple[LiveServer, str]) -> None:  # noqa: F811
    server, url = site
    pack = httpx.get(f"{server.url}/v1/pack", timeout=30).json()["shelters"]
    # Stand at a shelter on the left bank: it is reachable within a ballistic 120 s warning.
    here = min(pack, key=lambda x: abs(x["lat"] - POINTS[2][0]) + abs(x["lon"] - POINTS[2][1]))
    lat, lon = here["lat"], here["lon"]
    params: dict[str, Any] = {"lat": lat, "lon": lon, "limit": 3, "threat": "ballistic"}
    before = httpx.get(f"{server.url}/v1/nearest", params=params | {"limit": 8},
                       timeout=30).json()["results"]
    assert before[0]["reachable_in_time"] is True
    far = next(r for r in before if r["reachable_in_time"] is False)["shelter"]["id"]
    # A keyholder checks a door the resident cannot reach in time.
    with db.transaction(url) as s:
        log.append(s, kind="status.changed", actor="test", now=utcnow(),
                   payload={"shelter_id": far, "status": "open_verified"})
    page.wait_for_function(f"statusOf({far}) === 'open_verified'")
    served = httpx.get(f"{server.url}/v1/nearest", params=params, timeout=30).json()["results"]
    phone = page.evaluate(PHONE.replace("warningS: null", "warningS: 120"), [lat, lon, False])
    assert [r["shelter"]["id"] for r in phone] == [r["shelter"]["id"] for r in served]
    assert [r["reachable_in_time"] for r in phone] == [r["reachable_in_time"] for r in served]
    # The near unchecked door comes first and says why.
    assert served[0]["shelter"]["id"] == here["id"] and served[0]["status"] == "unknown"
    assert "better-checked shelters are too far" in served[0]["why"]["en"]
    # With no alert the near unchecked door is still the better bet than the far checked one,
    # and both say so alike.
    calm = httpx.get(f"{server.url}/v1/nearest", params={"lat": lat, "lon": lon, "limit": 3},
                     timeout=30).json()["results"]
    assert calm[0]["shelter"]["id"] == here["id"]
    assert "worth trying first" in calm[0]["why"]["en"]
    assert [r["shelter"]["id"] for r in page.evaluate(PHONE, [lat, lon, False])] == [
        r["shelter"]["id"] for r in calm]


def test_both_put_a_checked_door_a_little_further_before_an_unchecked_one(
        page: Any, site: tuple[LiveServer, str]) -> None:  # noqa: F811
    server, url = site
    # A point whose second-nearest door is close enough behind the first for a check-in to
    # matter (under 1.4 times the walk; the rule's break-even is about 1.46).
    for lat, lon in POINTS:
        params: dict[str, Any] = {"lat": lat, "lon": lon, "limit": 3}
        before = httpx.get(f"{server.url}/v1/nearest", params=params,
                           timeout=30).json()["results"]
        first, second = before[0], before[1]
        if second["walk_s"] < 1.4 * first["walk_s"]:
            break
    else:
        pytest.fail("no point with two doors close together")
    assert first["status"] == second["status"] == "unknown"
    with db.transaction(url) as s:
        log.append(s, kind="status.changed", actor="test", now=utcnow(),
                   payload={"shelter_id": second["shelter"]["id"], "status": "open_verified"})
    page.wait_for_function(f"statusOf({second['shelter']['id']}) === 'open_verified'")
    served = httpx.get(f"{server.url}/v1/nearest", params=params, timeout=30).json()["results"]
    phone = page.evaluate(PHONE, [lat, lon, False])
    assert served[0]["shelter"]["id"] == second["shelter"]["id"]
    assert [r["shelter"]["id"] for r in phone] == [r["shelter"]["id"] for r in served]
