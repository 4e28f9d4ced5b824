"""The shelter card: what the registry publishes beyond its columns, and the last verified open."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from shelterwatch.cli.main import app
from shelterwatch.config import Settings
from tests.reports.helpers import bearer, kyiv_shelter, token

REGISTRY = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [30.5234, 50.4501]},
     "properties": {"id": "s1", "name": "Підвал школи №5", "address": "вул. Хрещатик, 22",
                    "kind": "simple", "pets_allowed": "так", "entrances": "2: з двору, з вулиці",
                    "sign_phone": "+380 44 000 00 00", "registry_date": "2024-05-01",
                    "keyholder_phone": "+380 67 111 11 11"}},
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [30.5240, 50.4505]},
     "properties": {"id": "s2", "name": "Паркінг", "address": "вул. Хрещатик, 24",
                    "kind": "parking"}},
]}


def test_pets_entrances_the_sign_phone_and_the_registrys_date_reach_the_card_and_the_pack(
        client: TestClient, settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "registry.geojson"
    path.write_text(json.dumps(REGISTRY, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(app, ["import", str(path), "--format", "geojson"])
    assert result.exit_code == 0, result.output
    page = client.get("/v1/shelters").json()["features"]
    first, second = sorted(page, key=lambda f: f["properties"]["address"])
    card = {"pets_allowed": "yes", "entrances": "2: з двору, з вулиці",
            "sign_phone": "+380 44 000 00 00", "registry_date": "2024-05-01"}
    assert first["properties"]["card"] == card
    assert second["properties"]["card"] == {}  # nothing published, nothing made up
    pack = client.get("/v1/pack")
    entries = {e["address"]: e for e in pack.json()["shelters"]}
    assert entries["вул. Хрещатик, 22"]["card"] == card
    assert "card" not in entries["вул. Хрещатик, 24"]
    # A property that is not a card field never leaves, whatever the registry put in it.
    assert "+380 67 111 11 11" not in pack.text
    assert "+380 67 111 11 11" not in client.get(f"/v1/shelters/{first['id']}/card").text


def test_the_card_says_when_a_keyholder_last_verified_it_open_and_never_who(
        kyiv_client: TestClient, kyiv_settings: Settings) -> None:
    url = kyiv_settings.database_url
    door = kyiv_shelter(url, 3)
    card = kyiv_client.get(f"/v1/shelters/{door.id}/card").json()
    assert card["last_verified_open"] is None
    assert card["card"] == {"registry_date": "2022-02-25"}  # the KMDA map's export day
    # A resident saying "open" is a report, not a verification.
    r = kyiv_client.post("/v1/reports", json={"shelter_id": door.id, "kind": "open",
                                               "device_id": "resident-phone-card"})
    assert r.status_code == 201, r.text
    assert kyiv_client.get(f"/v1/shelters/{door.id}/card").json()["last_verified_open"] is None
    keyholder = token(url, "keyholder", (door.id,))
    r = kyiv_client.post("/v1/checks", json={"shelter_id": door.id, "kind": "open"},
                         headers=bearer(keyholder))
    assert r.status_code == 201, r.text
    verified = kyiv_client.get(f"/v1/shelters/{door.id}/card").json()["last_verified_open"]
    assert verified["role"] == "keyholder" and verified["kind"] == "open"
    assert verified["at"].endswith("Z")
    assert set(verified) == {"at", "role", "kind"}
    assert kyiv_client.get("/v1/shelters/999999/card").status_code == 404
