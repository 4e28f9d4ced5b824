"""Owners and keyholders stay private; every non-public endpoint checks the caller's role."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from shelterwatch import db
from shelterwatch.config import Settings
from shelterwatch.shelters.models import Shelter


def owners(settings: Settings) -> set[str]:
    """Owner names that the registry does not also publish in a public column (some housing
    co-operatives are named after their building, and the building type is public)."""
    with db.reading(settings.database_url) as s:
        rows = s.execute(select(Shelter.owner, Shelter.name, Shelter.address, Shelter.details)
                         .where(Shelter.owner.is_not(None))).all()
    public = " ".join(f"{n} {a} {d}" for _, n, a, d in rows)
    return {o for o, *_ in rows if len(o) > 6 and o not in public}


def test_no_owner_appears_in_any_public_response(kyiv_client: TestClient,
                                                 kyiv_settings: Settings) -> None:
    secret = owners(kyiv_settings)
    assert len(secret) > 500
    bodies = [kyiv_client.get("/v1/shelters?limit=1000").text,
              kyiv_client.get("/v1/shelters/1").text,
              kyiv_client.get("/v1/areas").text,
              kyiv_client.get("/").text]
    after = 0
    while True:
        page = kyiv_client.get(f"/v1/log?after={after}&limit=5000").json()
        bodies.append(str(page))
        if page["next_after"] is None:
            break
        after = page["next_after"]
    text = "\n".join(bodies)
    leaked = [o for o in secret if o in text]
    assert leaked == []


def test_token_holder_names_do_not_appear_in_the_public_log(
        client: TestClient, make_token: Callable[..., str]) -> None:
    make_token("keyholder", name="Олена Петренко +380501234567", shelter_ids=(1,))
    log = client.get("/v1/log").text
    assert "Петренко" not in log and "380501234567" not in log
    assert "token.created" in log


def test_operator_sees_the_owner_of_a_shelter(kyiv_client: TestClient,
                                              make_token: Callable[..., str]) -> None:
    token = make_token("operator")
    r = kyiv_client.get("/v1/registry/shelters/2", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    assert r.json()["properties"]["owner"]


def test_registry_entry_refuses_anonymous_wrong_role_and_bad_tokens(
        kyiv_client: TestClient, make_token: Callable[..., str]) -> None:
    r = kyiv_client.get("/v1/registry/shelters/2")
    assert r.status_code == 401 and "bearer token" in r.json()["detail"]
    patrol = make_token("patrol")
    r = kyiv_client.get("/v1/registry/shelters/2", headers={"Authorization": f"Bearer {patrol}"})
    assert r.status_code == 403 and "patrol" in r.json()["detail"]
    r = kyiv_client.get("/v1/registry/shelters/2", headers={"Authorization": "Bearer sw_wrong"})
    assert r.status_code == 401 and r.json()["detail"] == "the bearer token is not valid"


def test_operator_issues_and_revokes_tokens(client: TestClient,
                                            make_token: Callable[..., str]) -> None:
    op = {"Authorization": f"Bearer {make_token('operator')}"}
    r = client.post("/v1/tokens", json={"role": "patrol", "name": "Unit 7"}, headers=op)
    assert r.status_code == 201
    issued = r.json()
    patrol = {"Authorization": f"Bearer {issued['token']}"}
    assert client.post("/v1/tokens", json={"role": "patrol", "name": "x"},
                       headers=patrol).status_code == 403
    assert client.post(f"/v1/tokens/{issued['id']}/revoke", headers=op).status_code == 200
    r = client.post("/v1/tokens", json={"role": "patrol", "name": "x"}, headers=patrol)
    assert r.status_code == 401


def test_a_token_for_an_unknown_role_is_refused(client: TestClient,
                                                make_token: Callable[..., str]) -> None:
    op = {"Authorization": f"Bearer {make_token('operator')}"}
    r = client.post("/v1/tokens", json={"role": "mayor", "name": "x"}, headers=op)
    assert r.status_code == 422 and "role 'mayor' cannot hold a token" in r.json()["detail"]
