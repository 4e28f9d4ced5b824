"""Evidence a crowd cannot fake: one client with any number of device ids is one witness.

The attack found on the way in: from one address, two `locked` reports per shelter with a fresh
random device id each, at the shelter's own coordinates — it turned 258 of 259 shelters
`locked_confirmed`. A real crowd must still confirm: many phones behind one carrier-grade NAT
at the same door (each with an id the server issued), or residents on different networks.
"""

from __future__ import annotations

import secrets

from fastapi.testclient import TestClient

from shelterwatch.config import Settings
from tests.reports.helpers import Place, bearer, kyiv_shelter, token
from tests.support.devices import issued_device


def _alert(client: TestClient, url: str) -> None:
    r = client.post("/v1/alerts", json={"area_id": "31", "type": "air_raid"},
                    headers=bearer(token(url, "operator")))
    assert r.status_code == 201, r.text


def _status(client: TestClient, shelter: Place) -> str:
    status: str = client.get(f"/v1/shelters/{shelter.id}").json()["properties"]["status"]
    return status


def _locked(client: TestClient, shelter: Place, device_id: str | None) -> int:
    body = {"shelter_id": shelter.id, "kind": "locked", "lat": shelter.lat, "lon": shelter.lon}
    if device_id:
        body["device_id"] = device_id
    r = client.post("/v1/reports", json=body)
    assert r.status_code in (201, 429), r.text
    return r.status_code


def test_one_address_with_random_device_ids_moves_at_most_five_shelters_and_confirms_none(
        kyiv_client: TestClient, kyiv_settings: Settings) -> None:
    url = kyiv_settings.database_url
    _alert(kyiv_client, url)
    attacker = TestClient(kyiv_client.app, client=("198.51.100.7", 40000))
    shelters = [kyiv_shelter(url, n) for n in range(12)]
    before = {s.id: _status(kyiv_client, s) for s in shelters}
    refused = 0
    for shelter in shelters:
        for _ in range(2):
            refused += _locked(attacker, shelter, f"rnd-{secrets.token_hex(8)}") == 429
    kyiv_client.app.state.follower.catch_up()
    after = {s.id: _status(kyiv_client, s) for s in shelters}
    moved = [sid for sid in after if after[sid] != before[sid]]
    assert len(moved) <= 5
    assert "locked_confirmed" not in after.values()
    assert refused >= 2 * (len(shelters) - 5)


def test_twenty_phones_behind_one_address_at_one_door_still_confirm(
        kyiv_client: TestClient, kyiv_settings: Settings) -> None:
    url = kyiv_settings.database_url
    _alert(kyiv_client, url)
    nat = TestClient(kyiv_client.app, client=("100.64.12.34", 40000))  # one carrier NAT address
    door = kyiv_shelter(url, 3)
    phones = [issued_device(nat) for _ in range(20)]
    assert all(_locked(nat, door, phone) == 201 for phone in phones)
    kyiv_client.app.state.follower.catch_up()
    assert _status(kyiv_client, door) == "locked_confirmed"


def test_three_residents_on_three_networks_confirm_in_three_reports_without_issued_ids(
        kyiv_client: TestClient, kyiv_settings: Settings) -> None:
    url = kyiv_settings.database_url
    _alert(kyiv_client, url)
    door = kyiv_shelter(url, 4)
    statuses = []
    for n, address in enumerate(("203.0.113.10", "192.0.2.20", "2001:db8:1:100::5")):
        resident = TestClient(kyiv_client.app, client=(address, 40000 + n))
        assert _locked(resident, door, f"own-phone-id-{n}") == 201
        kyiv_client.app.state.follower.catch_up()
        statuses.append(_status(kyiv_client, door))
    assert statuses[-1] == "locked_confirmed"


def test_self_chosen_ids_from_one_network_are_one_witness_at_one_door(
        kyiv_client: TestClient, kyiv_settings: Settings) -> None:
    url = kyiv_settings.database_url
    _alert(kyiv_client, url)
    one = TestClient(kyiv_client.app, client=("198.51.100.9", 40000))
    door = kyiv_shelter(url, 5)
    for n in range(10):
        assert _locked(one, door, f"made-up-{n:04d}") == 201
    kyiv_client.app.state.follower.catch_up()
    shown = kyiv_client.get(f"/v1/shelters/{door.id}").json()["properties"]
    assert shown["status"] == "locked_reported"
    assert "1 resident reported locked" in shown["status_explanation"]["en"]


def test_a_device_id_the_server_did_not_sign_is_not_an_issued_id(
        kyiv_client: TestClient, kyiv_settings: Settings) -> None:
    url = kyiv_settings.database_url
    _alert(kyiv_client, url)
    one = TestClient(kyiv_client.app, client=("198.51.100.10", 40000))
    genuine = issued_device(one)
    forged = genuine[:-4] + ("0000" if not genuine.endswith("0000") else "1111")
    door = kyiv_shelter(url, 6)
    assert _locked(one, door, forged) == 201
    assert _locked(one, door, forged.replace("sw1.", "sw1.x")) == 201
    kyiv_client.app.state.follower.catch_up()
    assert _status(kyiv_client, door) == "locked_reported"  # both forged: the network, once


def test_issued_ids_minted_on_one_network_reach_at_most_five_shelters_an_hour(
        kyiv_client: TestClient, kyiv_settings: Settings) -> None:
    url = kyiv_settings.database_url
    _alert(kyiv_client, url)
    minter = TestClient(kyiv_client.app, client=("198.51.100.11", 40000))
    ids = [issued_device(minter) for _ in range(8)]
    codes = [_locked(minter, kyiv_shelter(url, 10 + n), ids[n]) for n in range(8)]
    assert codes == [201] * 5 + [429] * 3
