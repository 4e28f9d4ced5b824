"""Audits written through the API for the stats scenario, then indexed and signed."""

from __future__ import annotations

from fastapi.testclient import TestClient

from shelterwatch import db
from shelterwatch.clock import utcnow
from shelterwatch.config import Settings
from shelterwatch.log.publisher import Publisher
from shelterwatch.stats import service as stats
from shelterwatch.worker import heads
from tests.audits.support import all_pass, b64, png


def audit(client: TestClient, settings: Settings, token: str, shelter_id: int, *,
          failed: str | None = None, seed: int = 3, ghost: bool = False) -> bytes | None:
    """A full audit of `shelter_id`: all pass but `failed` (with a photo), or a ghost finding;
    the rollups catch up and a head is signed. Returns the photo taken, if any."""
    card = client.get(f"/v1/shelters/{shelter_id}").json()
    lon, lat = card["geometry"]["coordinates"]
    photo = png(seed) if failed or ghost else None
    if ghost:
        answers, photos = {"exists": "fail"}, [{"item_id": "exists", "data": b64(png(seed))}]
    else:
        answers = all_pass(client.get("/v1/checklist").json(), card["properties"]["kind"])
        photos = []
        if failed and photo is not None:
            answers[failed] = "fail"
            photos = [{"item_id": failed, "data": b64(photo)}]
    made = client.post("/v1/audits", headers={"Authorization": f"Bearer {token}"}, json={
        "shelter_id": shelter_id, "tier": "full", "answers": answers, "photos": photos,
        "lat": lat, "lon": lon, "accuracy_m": 8})
    assert made.status_code == 201, made.text
    with db.transaction(settings.database_url) as s:
        while stats.catch_up(s, limit=500):
            pass
    heads.tick(Publisher(settings), now=utcnow(), force=True)
    return photo
