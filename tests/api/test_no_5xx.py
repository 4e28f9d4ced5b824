"""Every 5xx is a defect: hostile and odd requests get a precise 4xx, on both databases."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from fastapi.testclient import TestClient

from shelterwatch.config import Settings


def test_ids_beyond_the_databases_integers_are_422_not_500(
        client: TestClient, make_token: Callable[..., str]) -> None:
    op = {"Authorization": f"Bearer {make_token('operator')}"}
    for path in ("/v1/shelters/9223372036854775808", "/v1/shelters/2147483648",
                 "/v1/log?after=99999999999999999999", "/v1/log?after=9223372036854775808"):
        r = client.get(path)
        assert r.status_code == 422, (path, r.status_code, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    for path in ("/v1/alerts/2147483648/end", "/v1/tokens/9223372036854775808/revoke",
                 "/v1/incidents/2147483648/false-report"):
        assert client.post(path, headers=op, json={}).status_code == 422, path


def test_a_nul_character_in_a_text_field_is_refused_or_kept_never_a_500(
        client: TestClient, make_token: Callable[..., str]) -> None:
    op = {"Authorization": f"Bearer {make_token('operator')}"}
    r = client.post("/v1/tokens", json={"role": "patrol", "name": "unit\u0000 7"}, headers=op)
    assert r.status_code in (201, 422), r.text
    r = client.post("/v1/reports", json={"shelter_id": 1, "kind": "unfit", "reason": "wet\u0000"})
    assert r.status_code < 500, r.text


def test_a_chunked_body_over_the_limit_is_413(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"shelter_id": 1, "kind": "full", "note": "'
        for _ in range(40):
            yield b"x" * 1000
        yield b'"}'

    r = client.post("/v1/reports", content=chunks(),
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 413, r.text
    assert r.headers["content-type"] == "application/problem+json"


def test_malformed_json_to_a_role_only_endpoint_is_401_before_any_schema_is_shown(
        client: TestClient, make_token: Callable[..., str]) -> None:
    bad = {"Content-Type": "application/json"}
    r = client.post("/v1/alerts", content=b"{not json", headers=bad)
    assert r.status_code == 401 and "area_id" not in r.text
    r = client.post("/v1/alerts", content=b"{not json",
                    headers={**bad, "Authorization": "Bearer sw_forged"})
    assert r.status_code == 401
    keyholder = make_token("keyholder", shelter_ids=(1,))
    r = client.post("/v1/alerts", content=b"{not json",
                    headers={**bad, "Authorization": f"Bearer {keyholder}"})
    assert r.status_code == 403
    op = make_token("operator")
    r = client.post("/v1/alerts", content=b"{not json",
                    headers={**bad, "Authorization": f"Bearer {op}"})
    assert r.status_code == 422  # the operator may learn what is wrong
    assert client.post("/v1/reports", content=b"{not json", headers=bad).status_code == 422


def test_a_wrong_method_is_405_with_allow(client: TestClient) -> None:
    r = client.delete("/v1/reports")
    assert r.status_code == 405
    assert "POST" in r.headers["allow"]


def test_the_keyholder_import_takes_more_than_the_global_body_limit(
        kyiv_client: TestClient, kyiv_settings: Settings,
        make_token: Callable[..., str]) -> None:
    from tests.reports.helpers import kyiv_shelter

    door = kyiv_shelter(kyiv_settings.database_url, 0)
    rows = "".join(f"keyholder,Holder {n},{door.id},k{n}@example.org,,,\n" for n in range(600))
    body = ("role,name,shelter_id,email,sms,telegram,webhook\n" + rows).encode()
    assert len(body) > 16_384
    op = {"Authorization": f"Bearer {make_token('operator')}"}
    r = kyiv_client.post("/v1/keyholders/import", content=body, headers=op)
    assert r.status_code == 201, r.text
    assert r.json()["imported"]["keyholder"] == 600


def test_oversized_headers_are_431_with_a_problem_body(client: TestClient) -> None:
    r = client.get("/v1/areas", headers={"X-Padding": "a" * 9000})
    assert r.status_code == 431
    assert r.headers["content-type"] == "application/problem+json"
    assert "over the limit of 8192" in r.json()["detail"]
    assert client.get("/v1/areas", headers={"X-Padding": "a" * 4000}).status_code == 200
