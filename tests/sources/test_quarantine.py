"""The surge detector flags one attacker to the desk; one click sets its evidence aside.

One client on one network, a fresh device id per report, reports five doors locked (all its
spread limit allows). The desk sees it as one source touching five shelters, while a resident
on another network and twenty phones behind one carrier NAT at one door are not flagged. A
quarantine re-derives those shelters without its evidence, says so on each status, closes the
cases nobody else reported and calls off their patrols; a release puts everything back, and
`shelterwatch rebuild` reproduces both from the log.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from shelterwatch import db
from shelterwatch.cli.main import app as cli
from shelterwatch.config import Settings
from shelterwatch.log import service as log
from shelterwatch.observations.models import ShelterStatus, SourceQuarantine
from tests.reports.helpers import Place, bearer, kyiv_shelter, token
from tests.support.devices import issued_device


def _report(client: TestClient, door: Place, device_id: str) -> int:
    r = client.post("/v1/reports", json={"shelter_id": door.id, "kind": "locked",
                                         "lat": door.lat, "lon": door.lon,
                                         "device_id": device_id})
    assert r.status_code in (201, 429), r.text
    return r.status_code


def _status(client: TestClient, door: Place) -> dict[str, Any]:
    props: dict[str, Any] = client.get(f"/v1/shelters/{door.id}").json()["properties"]
    return props


def _statuses(url: str) -> list[tuple[Any, ...]]:
    with db.reading(url) as s:
        return [tuple(r) for r in s.execute(
            select(ShelterStatus.shelter_id, ShelterStatus.status, ShelterStatus.reasons,
                   ShelterStatus.observation_ids).order_by(ShelterStatus.shelter_id)).all()]


def test_one_attacker_is_flagged_quarantined_and_released(
        kyiv_client: TestClient, kyiv_settings: Settings) -> None:
    url = kyiv_settings.database_url
    operator = bearer(token(url, "operator"))
    assert kyiv_client.post("/v1/alerts", json={"area_id": "31"},
                            headers=operator).status_code == 201
    doors = [kyiv_shelter(url, n) for n in range(8)]
    honest_door, nat_door = doors[0], doors[7]
    attacker = TestClient(kyiv_client.app, client=("198.51.100.7", 40000))
    resident = TestClient(kyiv_client.app, client=("203.0.113.10", 40001))
    nat = TestClient(kyiv_client.app, client=("100.64.12.34", 40002))

    assert _report(resident, honest_door, "own-phone") == 201
    codes = [_report(attacker, door, f"rnd-{secrets.token_hex(8)}")
             for door in doors[:6] for _ in range(2)]
    assert codes.count(201) == 10 and codes.count(429) == 2  # five doors, then refused
    phones = [issued_device(nat) for _ in range(20)]
    assert all(_report(nat, nat_door, phone) == 201 for phone in phones)
    kyiv_client.app.state.follower.catch_up()
    assert _status(kyiv_client, doors[1])["status"] == "locked_reported"
    assert _status(kyiv_client, honest_door)["status"] == "locked_confirmed"

    flagged = kyiv_client.get("/v1/sources/flagged", headers=operator)
    assert flagged.status_code == 200, flagged.text
    sources = flagged.json()["sources"]
    assert len(sources) == 1  # not the resident, not the twenty phones at one door
    source = sources[0]
    assert source["shelters"] == 5 and source["reports"] == 10 and not source["quarantined"]
    assert source["shelter_ids"] == sorted(d.id for d in doors[:5])
    assert "5 different shelters" in source["reasons"][0]
    assert "198.51.100.7" not in flagged.text
    assert kyiv_client.get("/v1/sources/flagged").status_code == 401

    cases = {i["shelter_id"]: i for i in
             kyiv_client.get("/v1/incidents", headers=operator).json()["incidents"]}
    assert set(cases) >= {d.id for d in doors[:5]}

    q = kyiv_client.post(f"/v1/sources/{source['source']}/quarantine",
                         json={"reason": "five doors from one network"}, headers=operator)
    assert q.status_code == 200, q.text
    outcome = q.json()
    assert outcome["changed"] == sorted(d.id for d in doors[:5])
    # The honest resident's case stays open; the four only the attacker reported are closed.
    assert sorted(outcome["closed_incidents"]) == sorted(cases[d.id]["id"] for d in doors[1:5])
    kyiv_client.app.state.follower.catch_up()
    for door in doors[1:5]:
        props = _status(kyiv_client, door)
        assert props["status"] == "unknown"
        assert "set aside: an operator quarantined" in props["status_explanation"]["en"]
    honest = _status(kyiv_client, honest_door)
    assert honest["status"] == "locked_reported"  # one resident still counts
    assert "reports from 1 reporter set aside" in honest["status_explanation"]["en"]
    assert _status(kyiv_client, nat_door)["status"] == "locked_confirmed"
    open_now = {i["shelter_id"] for i in
                kyiv_client.get("/v1/incidents", headers=operator).json()["incidents"]}
    assert honest_door.id in open_now and not open_now & {d.id for d in doors[1:5]}
    again = kyiv_client.post(f"/v1/sources/{source['source']}/quarantine", headers=operator)
    assert again.status_code == 409

    # More from the quarantined source is taken (nothing tells it) and weighs nothing.
    assert _report(attacker, doors[2], f"rnd-{secrets.token_hex(8)}") == 201
    kyiv_client.app.state.follower.catch_up()
    assert _status(kyiv_client, doors[2])["status"] == "unknown"
    with db.reading(url) as s:
        after = log.last_seq(s) - 60
    log_page = kyiv_client.get(f"/v1/log?after={after}&limit=100").text
    assert "source.quarantined" in log_page and source["source"] not in log_page
    assert "five doors from one network" not in log_page

    quarantined = _statuses(url)
    assert CliRunner().invoke(cli, ["rebuild"]).exit_code == 0
    assert _statuses(url) == quarantined

    r = kyiv_client.post(f"/v1/sources/{source['source']}/release", headers=operator)
    assert r.status_code == 200, r.text
    kyiv_client.app.state.follower.catch_up()
    assert _status(kyiv_client, doors[2])["status"] == "locked_reported"
    assert _status(kyiv_client, honest_door)["status"] == "locked_confirmed"
    assert "set aside" not in _status(kyiv_client, doors[3])["status_explanation"]["en"]
    with db.reading(url) as s:
        assert s.get(SourceQuarantine, source["source"]).released_at is not None
    released = _statuses(url)
    outcome_ = CliRunner().invoke(cli, ["rebuild"])
    assert outcome_.exit_code == 0, outcome_.output
    assert _statuses(url) == released
    assert kyiv_client.post(f"/v1/sources/{source['source']}/release",
                            headers=operator).status_code == 404


def test_a_burst_from_one_network_is_shown_even_at_one_door(
        kyiv_client: TestClient, kyiv_settings: Settings, monkeypatch: Any) -> None:
    url = kyiv_settings.database_url
    operator = bearer(token(url, "operator"))
    kyiv_client.app.state.settings.surge_reports_per_5_min = 5
    door = kyiv_shelter(url, 2)
    nat = TestClient(kyiv_client.app, client=("100.64.12.35", 40000))
    for _ in range(5):
        assert _report(nat, door, issued_device(nat)) == 201
    sources = kyiv_client.get("/v1/sources/flagged", headers=operator).json()["sources"]
    assert [(s["shelters"], s["reporters"], s["reports_last_5_min"]) for s in sources] == [
        (1, 5, 5)]
    assert sources[0]["reasons"] == ["5 reports in the last five minutes"]
