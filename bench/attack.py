"""The sybil attack beside the honest crowd: shelters moved and confirmed by one address.

Over the real Kyiv registry (3,694 shelters) in a fresh SQLite file, during an alert on Kyiv,
through the real app in process, it prints for each scenario how many shelters left their status,
how many became `locked_confirmed`, and how many reports were refused:

  1. attack, self-chosen ids: one address, two `locked` reports per shelter for 259 shelters, a
     fresh random device id each, standing at the shelter's own coordinates (the attack found on
     commit 84b061f: 258 of 259 confirmed);
  2. attack, issued ids: the same address first spends its whole issuance budget on issued ids
     (proof of work paid), then uses them two per shelter;
  3. honest: 20 phones behind one carrier-grade NAT address at one door, each with an issued id;
  4. honest: three residents on three networks without issued ids at one door.

Goals (issue 10): 1 moves at most 5 shelters and confirms none; 3 confirms; 4 confirms in at
most 3 reports. 2 is the attack's next step, shown so the README can say what it still buys.

    .venv/bin/python bench/attack.py [--shelters 259]
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from shelterwatch import db
from shelterwatch.app import create_app
from shelterwatch.areas.models import Area
from shelterwatch.auth import service as auth
from shelterwatch.clock import utcnow
from shelterwatch.config import Settings
from shelterwatch.rules import witness
from shelterwatch.shelters.models import Shelter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import kyiv_database  # noqa: E402


def statuses(client: TestClient, ids: list[int]) -> dict[int, str]:
    client.app.state.follower.catch_up()  # type: ignore[attr-defined]
    return {i: client.get(f"/v1/shelters/{i}").json()["properties"]["status"] for i in ids}


def locked(client: TestClient, shelter: Any, device_id: str | None) -> int:
    body = {"shelter_id": shelter.id, "kind": "locked", "lat": shelter.lat, "lon": shelter.lon}
    if device_id:
        body["device_id"] = device_id
    return client.post("/v1/reports", json=body).status_code


def issued(client: TestClient) -> str | None:
    c = client.post("/v1/devices/challenge").json()
    nonce = witness.solve(c["challenge"], c["bits"])
    r = client.post("/v1/devices", json={"challenge": c["challenge"], "nonce": nonce})
    return r.json()["device_id"] if r.status_code == 201 else None


def outcome(name: str, before: dict[int, str], after: dict[int, str], sent: int,
            refused: int) -> None:
    moved = sum(1 for i in after if after[i] != before[i])
    confirmed = sum(1 for s in after.values() if s == "locked_confirmed")
    print(f"{name:<58} shelters moved {moved:>4}  confirmed {confirmed:>4}  "
          f"reports {sent:>4} (refused {refused})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shelters", type=int, default=259)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/attack.sqlite3"
        kyiv_database(url)
        settings = Settings(database_url=url, secret_key=secrets.token_urlsafe(32),
                            coverage_areas="")  # no coverage sweep beside the figures
        with db.transaction(url) as s:
            _, operator = auth.create(s, role="operator", name="bench", now=utcnow())
            kyiv = {"31", *s.execute(select(Area.id).where(Area.parent_id == "31")).scalars()}
            shelters = list(s.execute(select(Shelter).where(Shelter.area_id.in_(kyiv))
                                      .order_by(Shelter.id)).scalars())
        app = create_app(settings)
        with TestClient(app) as desk:
            desk.post("/v1/alerts", json={"area_id": "31", "type": "air_raid"},
                      headers={"Authorization": f"Bearer {operator}"})
            run(app, desk, shelters, args.shelters, {"Authorization": f"Bearer {operator}"})


def run(app: Any, desk: TestClient, shelters: list[Any], n: int,
        operator: dict[str, str]) -> None:
    print(f"Kyiv registry, alert on; {n} shelters attacked; "
          f"{Settings().device_pow_bits}-bit proof of work per issued id")
    targets = shelters[:n]
    ids = [s.id for s in targets]
    before = statuses(desk, ids)
    first_ids, first_before = ids, before
    attacker = TestClient(app, client=("198.51.100.66", 41000))
    codes = [locked(attacker, s, f"rnd-{secrets.token_hex(8)}") for s in targets for _ in (1, 2)]
    outcome("1. attack: one address, random device ids", before, statuses(desk, ids),
            len(codes), codes.count(429))

    targets = shelters[n:2 * n]
    ids = [s.id for s in targets]
    before = statuses(desk, ids)
    minter = TestClient(app, client=("198.51.100.67", 41000))
    pool: list[str] = []
    while (got := issued(minter)) is not None:
        pool.append(got)
    codes = [locked(minter, s, pool[(2 * k + j) % len(pool)])
             for k, s in enumerate(targets) for j in (0, 1)]
    outcome(f"2. attack: one address, {len(pool)} issued ids (its whole budget)", before,
            statuses(desk, ids), len(codes), codes.count(429))

    # The desk sees both attackers as flagged sources and quarantines each with one click.
    flagged = desk.get("/v1/sources/flagged", headers=operator).json()["sources"]
    for source in flagged:
        r = desk.post(f"/v1/sources/{source['source']}/quarantine", headers=operator)
        assert r.status_code == 200, r.text
    app.state.follower.catch_up()
    outcome(f"   after quarantining the {len(flagged)} flagged sources (1 and 2)",
            {**first_before, **before}, statuses(desk, first_ids + ids), 0, 0)

    door = shelters[2 * n]
    before = statuses(desk, [door.id])
    nat = TestClient(app, client=("100.64.0.1", 41000))
    phones = [issued(nat) for _ in range(20)]
    sent = refused = 0
    to_confirm = None
    for phone in phones:
        code = locked(nat, door, phone)
        sent, refused = sent + 1, refused + (code == 429)
        if to_confirm is None and statuses(desk, [door.id])[door.id] == "locked_confirmed":
            to_confirm = sent
    outcome("3. honest: 20 phones behind one NAT address, one door", before,
            statuses(desk, [door.id]), sent, refused)
    print(f"   confirmed after {to_confirm} reports")

    door = shelters[2 * n + 1]
    before = statuses(desk, [door.id])
    sent = refused = 0
    to_confirm = None
    for k, address in enumerate(("203.0.113.10", "192.0.2.20", "2001:db8:1:100::5")):
        resident = TestClient(app, client=(address, 41000))
        code = locked(resident, door, f"own-random-id-{k}")
        sent, refused = sent + 1, refused + (code == 429)
        if to_confirm is None and statuses(desk, [door.id])[door.id] == "locked_confirmed":
            to_confirm = sent
    outcome("4. honest: three residents on three networks, one door", before,
            statuses(desk, [door.id]), sent, refused)
    print(f"   confirmed after {to_confirm} reports")


if __name__ == "__main__":
    main()
