"""Tokens act only where they are meant to: bound keyholder and door tokens, a desk never locked
out, and bindings only to shelters that exist."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from shelterwatch import db
from shelterwatch.auth import service as auth
from shelterwatch.clock import utcnow
from shelterwatch.config import Settings
from shelterwatch.errors import InvalidInput
from tests.cli.test_cli import run
from tests.reports.helpers import bearer, kyiv_shelter, token


@pytest.mark.parametrize("role", ["keyholder", "door"])
def test_keyholder_and_door_tokens_without_shelters_cannot_be_created(
        settings: Settings, role: str) -> None:
    with db.transaction(settings.database_url) as s, pytest.raises(InvalidInput) as refused:
        auth.create(s, role=role, name="unbound", now=utcnow())
    assert "must be bound to the shelters" in refused.value.detail
    result = run("token", "create", "--role", role, "--name", "unbound")
    assert result.returncode == 1 and "must be bound to the shelters" in result.stderr


@pytest.mark.parametrize("role", ["keyholder", "door"])
def test_a_bound_token_cannot_record_open_on_another_shelter(
        kyiv_client: TestClient, kyiv_settings: Settings, role: str) -> None:
    url = kyiv_settings.database_url
    mine, other = kyiv_shelter(url, 0), kyiv_shelter(url, 1)
    holder = bearer(token(url, role, (mine.id,)))
    r = kyiv_client.post("/v1/checks", json={"shelter_id": other.id, "kind": "open"},
                         headers=holder)
    assert r.status_code == 403 and f"not bound to shelter {other.id}" in r.json()["detail"]
    assert kyiv_client.post("/v1/checks", json={"shelter_id": mine.id, "kind": "open"},
                            headers=holder).status_code == 201


def test_tokens_keyholders_and_owners_bind_only_to_shelters_that_exist(
        kyiv_client: TestClient, kyiv_settings: Settings) -> None:
    op = bearer(token(kyiv_settings.database_url, "operator"))
    for path, body in [("/v1/tokens", {"role": "keyholder", "name": "k", "shelter_ids": [9999999]}),
                       ("/v1/keyholders", {"name": "k", "shelter_ids": [9999999]}),
                       ("/v1/owners", {"name": "o", "shelter_ids": [9999999]})]:
        r = kyiv_client.post(path, json=body, headers=op)
        assert r.status_code == 422, (path, r.text)
        assert "no shelter with id 9999999" in r.json()["detail"]


def test_the_last_operator_token_cannot_be_revoked(
        client: TestClient, make_token: Callable[..., str]) -> None:
    op = {"Authorization": f"Bearer {make_token('operator')}"}
    me = client.get("/v1/console", headers=op)
    assert me.status_code == 200
    with db.reading(client.app.state.settings.database_url) as s:
        from sqlalchemy import select

        from shelterwatch.auth.models import Token
        only = s.execute(select(Token.id).where(Token.role == "operator")).scalar_one()
    r = client.post(f"/v1/tokens/{only}/revoke", headers=op)
    assert r.status_code == 409 and "last active operator token" in r.json()["detail"]
    second = client.post("/v1/tokens", json={"role": "operator", "name": "desk 2"}, headers=op)
    assert second.status_code == 201
    assert client.post(f"/v1/tokens/{only}/revoke", headers=op).status_code == 200
