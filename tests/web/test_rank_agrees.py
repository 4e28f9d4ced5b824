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
from tests.audits.support import all_pass, png
from tests.support.server import LiveServer
from tests.web.test_resident_page import browser, page, site  # noqa: F401  (the page's fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Centre, Podil, the left bank, the far south-east and the western edge of Kyiv.
POINTS = [(50.4501, 30.5234), (50.4650, 30.5150), (50.4520, 30.6150), (50.3950, 30.6350),
          (50.4550, 30.3700)]
PHONE = """([lat, lon, stepFree]) => Rank.rank(state.shelters, lat, lon, {
  walk: CONFIG.walk, pool: CONFIG.pool, statusClass: CONFIG.statusClass, statusOf,
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
