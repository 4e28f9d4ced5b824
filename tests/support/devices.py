"""Issued device ids for tests, fetched the way a phone does: challenge, proof of work, id."""

from __future__ import annotations

from typing import Any

from shelterwatch.rules import witness


def issued_device(client: Any, headers: dict[str, str] | None = None) -> str:
    """A device id the server issued to `client` (a TestClient or an httpx client)."""
    c = client.post("/v1/devices/challenge", headers=headers or {})
    assert c.status_code == 200, c.text
    body = c.json()
    nonce = witness.solve(body["challenge"], body["bits"])
    r = client.post("/v1/devices", json={"challenge": body["challenge"], "nonce": nonce},
                    headers=headers or {})
    assert r.status_code == 201, r.text
    device_id: str = r.json()["device_id"]
    return device_id
