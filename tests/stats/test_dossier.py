"""An investigator's dossier: every fact about a case in order, in the city's time, and a JSON
bundle the shipped standard-library script verifies offline against the signed tree head."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from shelterwatch import db
from shelterwatch.clock import utcnow
from shelterwatch.config import Settings
from shelterwatch.incidents.models import Incident
from shelterwatch.log import standalone_verifier
from shelterwatch.log.publisher import Publisher
from shelterwatch.shelters.models import Shelter
from shelterwatch.worker import heads
from tests.stats.scenario import play


def verify_offline(bundle: dict[str, object], tmp_path: Path) -> tuple[int, str]:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    done = subprocess.run([sys.executable, "-I", standalone_verifier.__file__, str(path)],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    return done.returncode, done.stdout


def test_a_cases_dossier_verifies_offline_and_a_changed_fact_does_not(
        client: TestClient, settings: Settings, tmp_path: Path) -> None:
    night = play(settings.database_url)
    heads.tick(Publisher(settings), now=utcnow(), force=True)
    with db.reading(settings.database_url) as s:
        case_id = s.execute(select(Incident.id).where(
            Incident.shelter_id == night.shelters["s3"])).scalar_one()
    bundle = client.get(f"/v1/dossiers/incident/{case_id}").json()
    kinds = [f["kind"] for f in bundle["facts"]]
    assert kinds[0] == "observation.recorded"  # the report that opened it
    assert "incident.opened" in kinds and kinds[-1] == "incident.resolved"
    assert bundle["not_yet_signed"] == []
    assert bundle["facts"][0]["at_local"].endswith(("+02:00", "+03:00"))  # Europe/Kyiv
    assert verify_offline(bundle, tmp_path) == (0, "verified\n")

    bundle["facts"][-1]["payload"]["resolution"] = "found_open"
    code, out = verify_offline(bundle, tmp_path)
    assert code == 1 and "hash does not match its content" in out

    page = client.get(f"/dossiers/incident/{case_id}")
    assert page.status_code == 200 and "incident.resolved" in page.text


def test_a_shelters_dossier_holds_its_alert_time_evidence(
        client: TestClient, settings: Settings, tmp_path: Path) -> None:
    night = play(settings.database_url)
    heads.tick(Publisher(settings), now=utcnow(), force=True)
    bundle = client.get(f"/v1/dossiers/shelter/{night.shelters['s2']}").json()
    kinds = [f["kind"] for f in bundle["facts"]]
    assert kinds[0] == "shelter.created" and "observation.recorded" in kinds
    assert verify_offline(bundle, tmp_path) == (0, "verified\n")
    assert client.get("/v1/dossiers/shelter/999999").status_code == 404
    assert client.get("/v1/dossiers/owner/1").status_code == 422


def test_a_dossier_in_a_hidden_oblast_is_refused_to_the_public_and_whole_to_those_who_may(
        client: TestClient, settings: Settings, tmp_path: Path,
        make_token: Callable[..., str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The policy hides where front-line shelters are: a dossier names its shelter's address
    and point in facts whose hashes cover them, so the public gets a refusal saying why, and an
    operator, an auditor or the shelter's owner the whole bundle, still verifiable offline."""
    night = play(settings.database_url)
    heads.tick(Publisher(settings), now=utcnow(), force=True)
    with db.reading(settings.database_url) as s:
        case_id = s.execute(select(Incident.id).where(
            Incident.shelter_id == night.shelters["s3"])).scalar_one()
        address = s.execute(select(Shelter.address).where(
            Shelter.id == night.shelters["s3"])).scalar_one()
    shelter = f"/v1/dossiers/shelter/{night.shelters['s3']}"
    case = f"/v1/dossiers/incident/{case_id}"
    pages = [f"/dossiers/shelter/{night.shelters['s3']}", f"/dossiers/incident/{case_id}.pdf"]
    assert client.get(shelter).status_code == 200  # no policy yet: public
    monkeypatch.setattr(client.app.state.settings, "stats_hidden_oblasts",  # type: ignore
                        ("31",))
    for path in (shelter, case, *pages):
        refused = client.get(path)
        assert refused.status_code == 401, path
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert "location policy" in refused.json()["detail"] and address not in refused.text
    patrol = {"Authorization": f"Bearer {make_token('patrol')}"}
    assert client.get(case, headers=patrol).status_code == 403
    other_owner = make_token("owner", shelter_ids=(night.shelters["s1"],))
    assert client.get(case, headers={"Authorization": f"Bearer {other_owner}"}
                      ).status_code == 403
    owner = make_token("owner", shelter_ids=(night.shelters["s3"],))
    for token in (make_token("operator"), make_token("auditor"), owner):
        auth = {"Authorization": f"Bearer {token}"}
        bundle = client.get(case, headers=auth).json()
        assert bundle["facts"] and verify_offline(bundle, tmp_path) == (0, "verified\n")
        assert client.get(shelter, headers=auth).status_code == 200
        assert all(client.get(p, headers=auth).status_code == 200 for p in pages)
    whole = client.get(shelter, headers={"Authorization": f"Bearer {owner}"}).text
    assert address in whole  # given whole: nothing cut that the proofs cover
    # A shelter outside the hidden oblast stays public.
    monkeypatch.setattr(client.app.state.settings, "stats_hidden_oblasts",  # type: ignore
                        ("22",))
    assert client.get(shelter).status_code == 200
