"""Shelters in a hidden oblast leave no location through the public log, and the export still
verifies: a redacted fact keeps its place in the chain and in the signed tree."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import select, text

from shelterwatch import db
from shelterwatch.clock import utcnow
from shelterwatch.config import Settings
from shelterwatch.log import standalone_verifier
from shelterwatch.open311 import service as open311
from shelterwatch.shelters.models import Shelter
from tests.log.test_signed_heads import cli, sign_head
from tests.stats.scenario import play
from tests.support.server import LiveServer


def _all_facts(base: str) -> list[dict[str, object]]:
    facts: list[dict[str, object]] = []
    after: int | None = 0
    while after is not None:
        page = httpx.get(f"{base}/v1/log", params={"after": after, "limit": 7}).json()
        facts += page["facts"]
        after = page["next_after"]
    return facts


@pytest.mark.slow
def test_no_hidden_oblast_location_leaves_through_the_log_and_it_still_verifies(
        settings: Settings, live_server: Callable[..., LiveServer]) -> None:
    url = settings.database_url
    night = play(url)
    with db.transaction(url) as session:  # a resident in Kyiv says there is no shelter near
        open311.record_place(session, lat=50.4473, lon=30.5192, now=utcnow(),
                             tracking_prefix="KV", private={"device": "d1"})
    with db.reading(url) as session:
        located = session.execute(select(Shelter.lat, Shelter.lon, Shelter.address)).all()
    sign_head()

    open_server = live_server()
    shown = httpx.get(f"{open_server.url}/v1/log", params={"limit": 5000}).text
    assert "50.4501" in shown and "Хрещатик" in shown  # without the policy, the log says where
    hidden_server = live_server(SHELTERWATCH_STATS_HIDDEN_OBLASTS="31")
    facts = _all_facts(hidden_server.url)
    exported = json.dumps(facts, ensure_ascii=False)

    for lat, lon, address in located:
        assert str(lat) not in exported and str(lon) not in exported
        assert address not in exported
    assert "50.447" not in exported  # the rounded place of the resident's report
    redacted = [f for f in facts if f.get("redacted")]
    kinds = {f["kind"] for f in redacted}
    assert {"shelter.created", "incident.opened", "incident.resolved", "observation.recorded",
            "status.changed", "owner.created", "place.no_shelter_reported"} <= kinds
    assert all(f["payload"] is None and f["actor"] is None for f in redacted)
    assert {f["kind"] for f in facts if not f.get("redacted")} >= {"area.created",
                                                                    "alert.started"}
    assert [f["seq"] for f in facts] == list(range(1, len(facts) + 1))  # nothing dropped

    done = subprocess.run([sys.executable, "-I", standalone_verifier.__file__, "--url",
                           hidden_server.url], capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout) == (0, "verified\n"), done.stdout + done.stderr
    assert cli("log", "verify")[0] == 0  # who holds the whole log checks every fact's content

    # Residents of the hidden oblast still find their shelters: the registry keeps them.
    registry = httpx.get(f"{hidden_server.url}/v1/shelters/{night.shelters['s1']}")
    assert registry.status_code == 200
    assert registry.json()["geometry"]["coordinates"] == [30.5234, 50.4501]


@pytest.mark.slow
def test_a_redacted_fact_that_does_not_link_is_still_caught(
        settings: Settings, live_server: Callable[..., LiveServer]) -> None:
    url = settings.database_url
    play(url)
    sign_head()
    with db.transaction(url) as session:  # rewrite a hidden fact's link in place
        session.execute(text("UPDATE facts SET prev_hash = :h WHERE kind = 'incident.opened'"),
                        {"h": "f" * 64})
    server = live_server(SHELTERWATCH_STATS_HIDDEN_OBLASTS="31")
    done = subprocess.run([sys.executable, "-I", standalone_verifier.__file__, "--url",
                           server.url], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "chain broken at seq" in done.stdout
