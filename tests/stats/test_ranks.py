"""Every figure beside the city's and ranked among owners and districts; the ghost rate and
audit freshness from the audits; an owner sees their open deficiencies — all from the night
with known times (owner A: s1, s2 in one district; owner B: s3, s4 in another)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shelterwatch.config import Settings
from tests.stats.auditing import audit
from tests.stats.scenario import Night, play


@pytest.fixture
def night(client: TestClient, settings: Settings, make_token: Callable[..., str]) -> Night:
    """The night, then s3 audited with a failed `dry` item and s4 found a ghost."""
    night = play(settings.database_url)
    auditor = make_token("auditor", "commission 2")
    audit(client, settings, auditor, night.shelters["s3"], failed="dry", seed=3)
    audit(client, settings, auditor, night.shelters["s4"], ghost=True, seed=4)
    return night


def _ranks(body: dict[str, Any], fid: str, among: str) -> dict[str, tuple[Any, Any]]:
    return {r["id"]: (r["value"], r["rank"]) for r in body["rankings"][fid][among]}


def test_ghost_rate_and_audit_freshness_on_the_json_csv_and_page(
        client: TestClient, night: Night) -> None:
    city = client.get("/v1/stats").json()
    assert city["figures"]["ghost_rate"] == 0.5  # s4 of the two given a full audit
    assert city["figures"]["audit_freshness"] == 0.5  # s3 and s4 of four, audited today
    assert (city["counts"]["shelters_audited_full"], city["counts"]["ghosts"]) == (2, 1)
    owner_b = client.get("/v1/stats", params={"owner": night.owner_b}).json()["versus_city"]
    assert owner_b["ghost_rate"] == {"value": 0.5, "city": 0.5, "versus_city": 0.0,
                                     "rank": 1, "of": 1, "among": "owners"}
    assert owner_b["audit_freshness"]["value"] == 1.0
    owner_a = client.get("/v1/stats", params={"owner": night.owner_a}).json()["figures"]
    # never audited: no ghost found, and none of A's shelters checked in the last 90 days
    assert (owner_a["ghost_rate"], owner_a["audit_freshness"]) == (None, 0.0)

    rows = {r["figure"]: r for r in csv.DictReader(io.StringIO(client.get(
        "/v1/stats.csv", params={"owner": night.owner_b}).text))}
    assert (rows["ghost_rate"]["value"], rows["ghost_rate"]["city"]) == ("0.5", "0.5")
    assert (rows["audit_freshness"]["value"], rows["audit_freshness"]["city"]) == ("1.0", "0.5")
    page = client.get(f"/stats/owners/{night.owner_b}", params={"lang": "en"}).text
    assert 'data-figure="ghost_rate">50.0 %</td>' in page
    assert 'data-figure="audit_freshness">100.0 %</td>' in page
    assert 'data-rank="ghost_rate">1 / 1</td>' in page


def test_every_figure_is_ranked_among_owners_and_districts(
        client: TestClient, night: Night) -> None:
    body = client.get("/v1/stats").json()
    a, b = str(night.owner_a), str(night.owner_b)
    assert _ranks(body, "verified_open_within_5_min", "owners") == {a: (1.0, 1), b: (0.0, 2)}
    # lower is better: B's two cases in its two shelter-hours against none of A's
    assert _ranks(body, "locked_per_100_shelters_100_alert_hours", "owners") == {
        a: (0.0, 1), b: (10000.0, 2)}
    assert _ranks(body, "keyholder_check_in_rate", "owners") == {a: (0.5, 1), b: (0.5, 1)}
    assert _ranks(body, "case_time_to_open_p50_s", "owners") == {b: (272.0, 1), a: (None, None)}
    assert _ranks(body, "on_time_share", "owners") == {b: (0.5, 1), a: (None, None)}
    assert _ranks(body, "ghost_rate", "owners") == {b: (0.5, 1), a: (None, None)}
    assert "time_to_open_p50_s" not in {k for k, v in body["rankings"].items()
                                        if "owners" in v}  # kept per area only
    first, second = night.areas["s1"], night.areas["s3"]
    assert _ranks(body, "time_to_open_p50_s", "districts") == {
        first: (20.0, 1), second: (340.0, 2)}  # 10 s and 120 s; 332 s and never
    assert _ranks(body, "audit_freshness", "districts") == {first: (0.0, 2), second: (1.0, 1)}

    district = client.get("/v1/stats", params={"area": second}).json()["versus_city"]
    assert district["verified_open_within_5_min"] == {
        "value": 0.0, "city": 0.5, "versus_city": -0.5, "rank": 2, "of": 2,
        "among": "districts"}
    week = client.get("/v1/stats").json()["worst_owners_7_days"]
    assert [o["owner_id"] for o in week] == [night.owner_b, night.owner_a]
    page = client.get("/stats", params={"lang": "en"}).text
    assert page.index(f"/stats/owners/{night.owner_b}?") < page.index(
        f"/stats/owners/{night.owner_a}?")  # the worst first


def test_an_owner_sees_the_open_deficiencies_at_their_shelters_and_no_one_elses(
        client: TestClient, night: Night, make_token: Callable[..., str]) -> None:
    b = make_token("owner", "Медицина", (night.shelters["s3"], night.shelters["s4"]))
    mine = client.get("/v1/owner/stats", headers={"Authorization": f"Bearer {b}"}).json()
    assert [(d["shelter_id"], d["item_id"]) for d in mine["open_deficiencies"]] == [
        (night.shelters["s3"], "dry")]
    assert mine["figures"]["ghost_rate"] == 0.5
    a = make_token("owner", "Школи", (night.shelters["s1"], night.shelters["s2"]))
    theirs = client.get("/v1/owner/stats", headers={"Authorization": f"Bearer {a}"}).json()
    assert theirs["open_deficiencies"] == []
    assert client.get("/v1/owner/stats").status_code == 401
