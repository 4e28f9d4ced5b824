"""Photos by content: on disk by default, in an S3-compatible bucket when configured (a real
S3-compatible server on loopback: moto's standalone server, spoken to over HTTP)."""

from __future__ import annotations

import hashlib
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from shelterwatch import db
from shelterwatch.app import create_app
from shelterwatch.audits import photos
from shelterwatch.config import Settings, get_settings
from shelterwatch.errors import InvalidInput, NotFound
from shelterwatch.shelters.models import Shelter
from tests.audits.support import all_pass, b64, png

MOTO = Path(shutil.which("moto_server") or ".venv/bin/moto_server")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def s3_url(tmp_path: Path) -> Iterator[str]:
    if not MOTO.exists():
        pytest.fail("moto_server is not installed (pip install -e '.[dev]')")
    port = _free_port()
    log = open(tmp_path / "moto.log", "wb")  # closed after the server stops
    process = subprocess.Popen([str(MOTO), "-H", "127.0.0.1", "-p", str(port)],
                               stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("moto_server did not start")
    url = f"http://127.0.0.1:{port}"
    # moto loads its services on the first request: seconds on a busy machine, longer than the
    # store's own timeout. The fixture waits for that, so the test times the store, not moto.
    try:
        httpx.get(f"{url}/", timeout=60).raise_for_status()
    except httpx.HTTPError as exc:
        process.kill()
        pytest.fail(f"moto_server did not answer: {exc}")
    yield url
    process.terminate()
    process.wait(10)
    log.close()


def test_the_disk_store_names_a_photo_by_its_sha256(tmp_path: Path) -> None:
    store = photos.DiskStore(tmp_path)
    photo = photos.check(png(1), field="photo", max_bytes=500_000)
    store.put(photo)
    store.put(photo)  # the same bytes twice are one file
    assert photo.sha256 == hashlib.sha256(png(1)).hexdigest()
    assert store.get(photo.sha256) == png(1)
    assert len(list(tmp_path.rglob("*"))) == 2  # the fan-out directory and the file
    with pytest.raises(NotFound):
        store.get("0" * 64)
    with pytest.raises(InvalidInput, match="not a JPEG or PNG"):
        photos.check(b"GIF89a....", field="photo", max_bytes=500_000)
    with pytest.raises(InvalidInput, match="over the 100 allowed"):
        photos.check(png(1, size=64), field="photo", max_bytes=100)


def test_an_audit_photo_goes_to_the_s3_bucket_and_comes_back(
        s3_url: str, kyiv_settings: Settings, monkeypatch: pytest.MonkeyPatch,
        make_token: Callable[..., str]) -> None:
    store = photos.S3Store(s3_url, "shelterwatch-photos", region="us-east-1",
                           key_id="test-key", secret="test-secret")
    store.ensure_bucket()
    monkeypatch.setenv("SHELTERWATCH_PHOTOS_S3_URL", s3_url)
    monkeypatch.setenv("SHELTERWATCH_PHOTOS_S3_KEY_ID", "test-key")
    monkeypatch.setenv("SHELTERWATCH_PHOTOS_S3_SECRET", "test-secret")
    get_settings.cache_clear()
    configured = get_settings()
    assert isinstance(photos.store_for(configured), photos.S3Store)
    with db.reading(configured.database_url) as session:
        sid, kind = session.execute(select(Shelter.id, Shelter.kind).limit(1)).one()
    auditor = make_token("auditor")
    with TestClient(create_app(configured)) as client:
        checklist = client.get("/v1/checklist").json()
        picture = png(21)
        made = client.post("/v1/audits", headers={"Authorization": f"Bearer {auditor}"},
                           json={"shelter_id": sid, "tier": "full",
                                 "answers": all_pass(checklist, kind) | {"radio": "fail"},
                                 "photos": [{"item_id": "radio", "data": b64(picture)}]})
        assert made.status_code == 201, made.text
        sha = made.json()["photos"][0]["sha256"]
        assert sha == hashlib.sha256(picture).hexdigest()
        assert store.get(sha) == picture  # in the bucket, under its hash
        got = client.get(f"/v1/photos/{sha}", headers={"Authorization": f"Bearer {auditor}"})
        assert got.status_code == 200 and got.content == picture
        assert client.get(f"/v1/photos/{sha}").status_code == 401
        bad = client.get("/v1/photos/not-a-hash", headers={"Authorization": f"Bearer {auditor}"})
        assert bad.status_code == 422
