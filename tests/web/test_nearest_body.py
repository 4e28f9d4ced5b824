"""`/v1/nearest` answers ahead of FastAPI's stack from JSON kept per shelter: the same answer,
byte for byte, and never a stale one."""

from __future__ import annotations

import random
from typing import Any

import orjson
from fastapi.testclient import TestClient

from shelterwatch import db
from shelterwatch.clock import utcnow
from shelterwatch.config import Settings
from shelterwatch.log import service as log

MAIDAN = (50.4501, 30.5234)


def _agree(client: TestClient, params: dict[str, Any]) -> dict[str, Any]:
    """The HTTP body and the answer the SMS and Telegram channels get, compared as bytes."""
    response = client.get("/v1/nearest", params=params)
    assert response.status_code == 200
    nearest = client.app.state.nearest  # type: ignore[attr-defined]
    expected = nearest.answer(float(params["lat"]), float(params["lon"]),
                              limit=int(params.get("limit", 3)),
                              step_free=params.get("step_free") == "true",
                              threat=params.get("threat"))
    assert response.content == orjson.dumps(expected)
    body: dict[str, Any] = response.json()
    return body


def test_the_http_body_is_the_answer_byte_for_byte_across_kyiv(kyiv_client: TestClient) -> None:
    rng = random.Random(3)
    for _ in range(150):
        params: dict[str, Any] = {"lat": rng.uniform(50.35, 50.55),
                                  "lon": rng.uniform(30.35, 30.75),
                                  "limit": rng.choice([1, 3, 7])}
        if rng.random() < 0.3:
            params["step_free"] = "true"
        if rng.random() < 0.3:
            params["threat"] = rng.choice(["ballistic", "cruise", "drones"])
        _agree(kyiv_client, params)


def test_a_status_or_readiness_change_shows_in_the_next_body(
    kyiv_client: TestClient, kyiv_settings: Settings
) -> None:
    here = {"lat": MAIDAN[0], "lon": MAIDAN[1]}
    before = _agree(kyiv_client, here)  # the shelters' JSON is now kept
    first = before["results"][0]["shelter"]["id"]
    # Limited, not not-ready: a not-ready door goes after every ready one and out of the three.
    readiness = {"category": "limited", "audited_at": "2026-06-01T00:00:00+00:00",
                 "rule_version": "1", "checklist_version": "1",
                 "reasons": [{"item_id": "water", "severity": "major", "uk": "немає води",
                              "en": "no water"}]}
    with db.transaction(kyiv_settings.database_url) as s:
        log.append(s, kind="status.changed", actor="test", now=utcnow(),
                   payload={"shelter_id": first, "status": "open_verified"})
        log.append(s, kind="readiness.changed", actor="test", now=utcnow(),
                   payload={"shelter_id": first, "readiness": readiness})
    kyiv_client.app.state.follower.catch_up()  # type: ignore[attr-defined]
    after = _agree(kyiv_client, here)
    shown = next(r for r in after["results"] if r["shelter"]["id"] == first)
    assert shown["status"] == shown["shelter"]["properties"]["status"] == "open_verified"
    assert shown["shelter"]["properties"]["readiness"]["category"] == "limited"
    assert "no water" in shown["why"]["en"]


def test_the_front_door_leaves_other_methods_and_limits_as_they_were(
    kyiv_client: TestClient,
) -> None:
    url = f"/v1/nearest?lat={MAIDAN[0]}&lon={MAIDAN[1]}"
    head = kyiv_client.head(url)
    assert head.status_code == 200 and head.content == b""
    post = kyiv_client.post(url)
    assert post.status_code == 405
    assert post.headers["content-type"].startswith("application/problem+json")
    huge = kyiv_client.get(url, headers={"x-padding": "x" * 9000})
    assert huge.status_code == 431
    assert huge.headers["content-type"].startswith("application/problem+json")
