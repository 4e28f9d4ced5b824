"""Issued device ids: paid for once with a small proof of work, within a network's budget."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from shelterwatch.app import create_app
from shelterwatch.config import Settings
from shelterwatch.rules import witness
from tests.support.devices import issued_device


def _challenge(client: TestClient) -> dict[str, object]:
    body: dict[str, object] = client.post("/v1/devices/challenge").json()
    return body


def test_an_issued_id_is_signed_and_a_solved_challenge_buys_only_one(
        client: TestClient, settings: Settings) -> None:
    c = _challenge(client)
    nonce = witness.solve(str(c["challenge"]), int(str(c["bits"])))
    first = client.post("/v1/devices", json={"challenge": c["challenge"], "nonce": nonce})
    assert first.status_code == 201
    assert witness.verify_device(settings.secret_key, first.json()["device_id"])
    again = client.post("/v1/devices", json={"challenge": c["challenge"], "nonce": nonce})
    assert again.status_code == 409
    assert "already used" in again.json()["detail"]


def test_an_unsolved_or_forged_challenge_is_refused(client: TestClient) -> None:
    c = str(_challenge(client)["challenge"])
    bits = 6
    wrong = next(str(n) for n in range(10_000) if not witness.work_done(c, str(n), bits))
    r = client.post("/v1/devices", json={"challenge": c, "nonce": wrong})
    assert r.status_code == 422 and "zero bits" in r.json()["detail"]
    forged = c.rsplit(".", 1)[0] + ".0000000000000000000000000"
    r = client.post("/v1/devices", json={"challenge": forged, "nonce": "1"})
    assert r.status_code == 422 and "not a challenge this server issued" in r.json()["detail"]
    easy = c.replace(f".{bits}.", ".0.", 1)  # asking for no work at all breaks the signature
    r = client.post("/v1/devices", json={"challenge": easy, "nonce": "1"})
    assert r.status_code == 422


def test_one_network_gets_only_its_budget_of_ids_an_hour(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app(settings.model_copy(update={"devices_per_address_per_hour": 3}))
    with TestClient(app, client=("198.51.100.50", 4000)) as one:
        ids = [issued_device(one) for _ in range(3)]
        assert len(set(ids)) == 3
        c = _challenge(one)
        nonce = witness.solve(str(c["challenge"]), int(str(c["bits"])))
        r = one.post("/v1/devices", json={"challenge": c["challenge"], "nonce": nonce})
        assert r.status_code == 429 and "device ids issued to this network" in r.json()["detail"]
        assert int(r.headers["retry-after"]) > 0
        other = TestClient(app, client=("203.0.113.99", 4000))
        assert issued_device(other)
