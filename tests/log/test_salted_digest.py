"""Private digests in the public log cannot be brute-forced, and the chain still verifies."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import select

from shelterwatch import db
from shelterwatch.config import Settings
from shelterwatch.log import chain
from shelterwatch.log.models import Fact
from tests.reports.helpers import kyiv_shelter


def _public_fact(client: TestClient, settings: Settings, tracking_id: str) -> dict[str, Any]:
    """The public log's entry recording this report."""
    with db.reading(settings.database_url) as s:
        last = s.execute(select(Fact.seq).order_by(Fact.seq.desc()).limit(1)).scalar_one()
    facts = client.get(f"/v1/log?after={max(0, last - 50)}").json()["facts"]
    found: dict[str, Any] = next(f for f in facts if f["kind"] == "observation.recorded"
                                 and f["payload"]["id"] == tracking_id)
    return found


def test_a_reporters_exact_position_cannot_be_recovered_from_the_public_log(
        kyiv_client: TestClient, kyiv_settings: Settings) -> None:
    door = kyiv_shelter(kyiv_settings.database_url, 0)
    lat, lon = round(door.lat + 0.00012, 5), round(door.lon - 0.00007, 5)
    r = kyiv_client.post("/v1/reports", json={"shelter_id": door.id, "kind": "full",
                                              "lat": lat, "lon": lon})
    assert r.status_code == 201, r.text
    recorded = _public_fact(kyiv_client, kyiv_settings, r.json()["tracking_id"])
    public_digest = recorded["private_digest"]
    # The attacker knows everything private but the position (here even the reporter key),
    # and tries every 5-decimal position within ~20 m of the door: no candidate matches.
    with db.reading(kyiv_settings.database_url) as s:
        stored = orjson.loads(s.execute(select(Fact.private).where(
            Fact.seq == recorded["seq"])).scalar_one())
    known = {k: v for k, v in stored.items() if k not in ("lat", "lon", "salt")}
    hits = 0
    for dlat in range(-20, 21):
        for dlon in range(-20, 21):
            guess = {**known, "lat": round(lat + dlat * 1e-5, 5),
                     "lon": round(lon + dlon * 1e-5, 5)}
            hits += hashlib.sha256(chain.canonical_json(guess)).hexdigest() == public_digest
    assert hits == 0
    # … while the holder of the private part (salt included) reproduces it exactly.
    assert chain.private_digest(stored) == public_digest
    assert len(stored["salt"]) == 32


def test_two_facts_with_the_same_private_values_have_different_digests(
        kyiv_client: TestClient, kyiv_settings: Settings) -> None:
    door = kyiv_shelter(kyiv_settings.database_url, 1)
    body = {"shelter_id": door.id, "kind": "full", "lat": door.lat, "lon": door.lon}
    ids = [kyiv_client.post("/v1/reports", json=body).json()["tracking_id"] for _ in range(2)]
    digests = {_public_fact(kyiv_client, kyiv_settings, i)["private_digest"] for i in ids}
    assert len(digests) == 2


def test_facts_chained_in_one_batch_each_get_a_salt_of_their_own() -> None:
    """A batch draws its salts at once (an import's ten thousand people): still 128 random
    bits per fact, so two people with the same contacts have different public digests."""
    from datetime import UTC, datetime

    from shelterwatch.log import service as log

    same = {"name": "Оксана", "email": "o@example.org"}
    rows = log.chained([log.NewFact("keyholder.created", "cli", {"id": n}, same)
                        for n in range(50)], now=datetime.now(UTC), head=(0, chain.GENESIS_HASH))
    salts = [orjson.loads(r["private"])["salt"] for r in rows]
    assert all(len(s) == 32 for s in salts) and len(set(salts)) == 50
    assert len({r["private_digest"] for r in rows}) == 50
    assert all(chain.private_digest(orjson.loads(r["private"])) == r["private_digest"]
               for r in rows)
