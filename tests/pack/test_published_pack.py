"""The offline pack off the request path: kept entry by entry by the worker, published as static
files atomically, served by the API from them (no request builds it)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from shelterwatch import db
from shelterwatch.app import create_app
from shelterwatch.config import Settings, get_settings
from shelterwatch.log import service as log
from shelterwatch.pack import published
from shelterwatch.pack import service as packs
from shelterwatch.pack.incremental import IncrementalPack
from shelterwatch.shelters.models import Shelter
from shelterwatch.worker.runner import Worker
from tests.audits.support import all_pass, b64, png


def full_build(url: str, board: dict[int, dict]) -> packs.Pack:
    from shelterwatch.observations.service import public_status

    with db.reading(url) as session:
        return packs.build(session, lambda sid: board.get(sid) or public_status(None, sid))


def test_a_status_change_touches_one_entry_and_renders_what_a_full_build_makes(
        kyiv_client: TestClient, kyiv_settings) -> None:
    url = kyiv_settings.database_url
    pack = IncrementalPack()
    with db.reading(url) as session:
        pack.load(session)
        seq = log.last_seq(session)
        shelter_id = session.execute(select(Shelter.id).limit(1)).scalar_one()
    before = pack.render()
    assert kyiv_client.post("/v1/reports", json={"shelter_id": shelter_id, "kind": "full",
                                                 "device_id": "phone-p1"}).status_code == 201
    with db.reading(url) as session:
        facts = log.after(session, seq)
        assert pack.apply(session, facts) == 1  # one entry, not 3,694
    after = pack.render()
    assert after.etag != before.etag
    entry = next(s for s in orjson.loads(after.body)["shelters"]
                 if s["id"] == shelter_id)
    assert entry["status"] == "full"
    kyiv_client.app.state.follower.catch_up()
    expected = full_build(url, kyiv_client.app.state.status_board.snapshot())
    assert (after.body, after.etag) == (expected.body, expected.etag)


def test_publishing_is_atomic_and_writes_nothing_when_unchanged(tmp_path: Path) -> None:
    one, two = packs.sealed(b'{"format":1,"shelters":[]}'), packs.sealed(b'{"format":1,"x":1}')
    assert published.publish(tmp_path, one)
    stamp = (tmp_path / "pack.json").stat().st_mtime_ns
    assert not published.publish(tmp_path, one)  # unchanged: not even touched
    assert (tmp_path / "pack.json").stat().st_mtime_ns == stamp
    reader = published.PublishedPack(tmp_path)
    assert reader.current().etag == one.etag
    assert published.publish(tmp_path, two)
    assert (tmp_path / "pack.json").read_bytes() == two.body
    assert reader.current().etag == two.etag and reader.current().body == two.body


def test_with_a_pack_dir_the_api_serves_the_published_file_and_never_builds(
        kyiv_settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHELTERWATCH_PACK_DIR", str(tmp_path))
    get_settings.cache_clear()
    settings = get_settings()
    with TestClient(create_app(settings)) as client:
        waiting = client.get("/v1/pack")
        assert waiting.status_code == 503  # nothing published yet, and no request builds it
        assert "not published yet" in waiting.json()["detail"]
        worker = Worker(settings).start()
        try:
            first = client.get("/v1/pack")
            assert first.status_code == 200 and len(first.json()["shelters"]) > 3000
            assert client.get("/v1/pack", headers={"If-None-Match": first.headers["etag"]}
                              ).status_code == 304
            with db.reading(settings.database_url) as session:
                shelter_id = session.execute(select(Shelter.id).limit(1)).scalar_one()
            assert client.post("/v1/reports", json={"shelter_id": shelter_id, "kind": "full",
                                                    "device_id": "phone-p2"}).status_code == 201
            deadline = time.monotonic() + 10
            while True:
                now = client.get("/v1/pack", headers={"If-None-Match": first.headers["etag"]})
                if now.status_code == 200:
                    break
                assert time.monotonic() < deadline, "the published pack never changed"
                time.sleep(0.05)
        finally:
            worker.stop()
    entry = next(s for s in now.json()["shelters"] if s["id"] == shelter_id)
    assert entry["status"] == "full"
    assert (tmp_path / "pack.json.gz").exists()


def test_audits_move_the_published_pack_as_a_full_build_would(
        kyiv_client: TestClient, kyiv_settings: Settings,
        make_token: Callable[..., str]) -> None:
    url = kyiv_settings.database_url
    pack = IncrementalPack()
    with db.reading(url) as session:
        pack.load(session)
        seq = log.last_seq(session)
        first, second = session.execute(select(Shelter.id, Shelter.kind).order_by(Shelter.id)
                                        .limit(2)).all()
    auditor = {"Authorization": f"Bearer {make_token('auditor')}"}
    checklist = kyiv_client.get("/v1/checklist").json()
    for (sid, kind), failing in ((first, "water_present"), (second, "exists")):
        answers = ({"exists": "fail"} if failing == "exists"
                   else all_pass(checklist, kind) | {failing: "fail"})
        made = kyiv_client.post("/v1/audits", headers=auditor, json={
            "shelter_id": sid, "tier": "full", "answers": answers,
            "photos": [{"item_id": failing, "data": b64(png(sid))}]})
        assert made.status_code == 201, made.text
    with db.reading(url) as session:
        pack.apply(session, log.after(session, seq))
    kyiv_client.app.state.follower.catch_up()
    board = kyiv_client.app.state.status_board.snapshot()
    body = orjson.loads(pack.render().body)
    entries = {s["id"]: s for s in body["shelters"]}
    assert entries[first[0]]["readiness"]["reasons"][0]["en"] == "no water"
    assert second[0] not in entries  # a ghost is not in the pack
    assert pack.render().body == full_build(url, board).body  # byte for byte, so the ETag too
