"""The dossier as a page and as a PDF: the same facts, evidence and proofs as the JSON bundle an
investigator verifies offline, in Ukrainian and English, with nothing private in either."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import select

from shelterwatch import db
from shelterwatch.clock import utcnow
from shelterwatch.config import Settings
from shelterwatch.incidents.models import Incident
from shelterwatch.log.publisher import Publisher
from shelterwatch.outbox import service as outbox
from shelterwatch.stats import service as stats
from shelterwatch.worker import heads
from tests.stats.auditing import audit
from tests.stats.scenario import Night, play

PRIVATE = ("phone-", "schools@example.invalid", "clinics@example.invalid")


def _audited(client: TestClient, settings: Settings, night: Night,
             make_token: Callable[..., str]) -> bytes:
    """s3 audited with one failed item and its photo, then indexed and signed."""
    photo = audit(client, settings, make_token("auditor", "commission 2"), night.shelters["s3"],
                  failed="dry")
    assert photo is not None
    return photo


def _pdf_text(body: bytes) -> str:
    assert body.startswith(b"%PDF-")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)
    return "".join(text.split())  # hashes wrap across lines on paper


def _page_seqs(html: str) -> list[int]:
    return [int(s) for s in re.findall(r'<tr data-seq="(\d+)">', html)]


def _facts(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(bundle["facts"] + bundle["not_yet_signed"], key=lambda f: f["seq"])


def test_a_shelters_dossier_page_and_pdf_hold_the_bundles_facts_photo_and_proof(
        client: TestClient, settings: Settings, make_token: Callable[..., str]) -> None:
    night = play(settings.database_url)
    photo = _audited(client, settings, night, make_token)
    sha = hashlib.sha256(photo).hexdigest()
    sid = night.shelters["s3"]
    bundle = client.get(f"/v1/dossiers/shelter/{sid}").json()
    facts = _facts(bundle)
    assert "audit.recorded" in [f["kind"] for f in facts]
    assert [e["sha256"] for e in bundle["evidence"]] == [sha]
    assert bundle["evidence"][0]["item_id"] == "dry"

    page = client.get(f"/dossiers/shelter/{sid}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert _page_seqs(html) == [f["seq"] for f in facts]
    for fact in facts:
        assert fact["hash"] in html and fact["at_local"] in html
    assert f'data-sha256="{sha}"' in html
    assert bundle["sth"]["root_hash"] in html and bundle["sth"]["signature"] in html
    assert "Досьє: укриття" in html and 'lang="uk"' in html
    # The page says its times are Kyiv's: the time it was made is too, not UTC.
    made = re.search(r"Складено: (?:<span data-generated>)?([^<\s]+?)(?:</span>)?\.", html)
    assert made and made.group(1).endswith(("+02:00", "+03:00")), made
    english = client.get(f"/dossiers/shelter/{sid}", params={"lang": "en"}).text
    assert "Dossier: shelter" in english and "Who was notified when" in english
    assert _page_seqs(english) == _page_seqs(html)

    paper = client.get(f"/dossiers/shelter/{sid}.pdf", params={"lang": "en"})
    assert paper.status_code == 200 and paper.headers["content-type"] == "application/pdf"
    text = _pdf_text(paper.content)
    for fact in facts:
        assert f"#{fact['seq']}" in text and fact["kind"] in text and fact["hash"] in text
    assert sha in text and bundle["sth"]["root_hash"] in text
    assert "Досьє:укриття" in _pdf_text(client.get(f"/dossiers/shelter/{sid}.pdf").content)
    for secret in PRIVATE:
        assert secret not in html and secret not in text


def test_a_cases_dossier_is_linked_from_the_stats_page_and_its_pdf_lists_every_fact(
        client: TestClient, settings: Settings) -> None:
    night = play(settings.database_url)
    heads.tick(Publisher(settings), now=utcnow(), force=True)
    with db.reading(settings.database_url) as s:
        case_id = s.execute(select(Incident.id).where(
            Incident.shelter_id == night.shelters["s3"])).scalar_one()
    stats_page = client.get("/stats", params={"lang": "en"}).text
    assert f'href="/dossiers/incident/{case_id}?lang=en"' in stats_page
    assert f'href="/dossiers/shelter/{night.shelters["s3"]}?lang=en"' in stats_page
    cases = client.get("/v1/stats").json()["cases"]
    assert case_id in [c["incident_id"] for c in cases]

    bundle = client.get(f"/v1/dossiers/incident/{case_id}").json()
    html = client.get(f"/dossiers/incident/{case_id}").text
    assert _page_seqs(html) == [f["seq"] for f in _facts(bundle)]
    text = _pdf_text(client.get(f"/dossiers/incident/{case_id}.pdf").content)
    kinds = [f["kind"] for f in _facts(bundle)]
    assert "incident.opened" in kinds and "incident.resolved" in kinds
    for fact in _facts(bundle):
        assert fact["hash"] in text
        for step in fact.get("audit_path", []):
            assert step in text
    for secret in PRIVATE:
        assert secret not in html and secret not in text
    assert client.get("/dossiers/incident/999999.pdf").status_code == 404
    assert client.get("/dossiers/owner/1.pdf").status_code == 422


def test_who_was_notified_shows_the_role_and_time_never_the_address(
        client: TestClient, settings: Settings) -> None:
    night = play(settings.database_url)
    with db.reading(settings.database_url) as s:
        case_id = s.execute(select(Incident.id).where(
            Incident.shelter_id == night.shelters["s4"])).scalar_one()
    with db.transaction(settings.database_url) as s:
        outbox.enqueue(s, outbox.Outgoing(
            subject=f"incident:{case_id}", step="notify_keyholders",
            recipient="keyholder:7:email", channel="email",
            address="keyholder.seven@example.invalid", title="Відчиніть укриття",
            body="Двері зачинені"), now=night.t0 + timedelta(seconds=130), actor="worker")
    # the outbox's facts are appended as its transaction commits; the rollups read them after
    with db.transaction(settings.database_url) as s:
        while stats.catch_up(s, limit=500):
            pass
    heads.tick(Publisher(settings), now=utcnow(), force=True)
    bundle = client.get(f"/v1/dossiers/incident/{case_id}").json()
    assert [(n["kind"], n["recipient"], n["channel"], n["step"])
            for n in bundle["notifications"]] == [
        ("notification.queued", "keyholder", "email", "notify_keyholders")]
    html = client.get(f"/dossiers/incident/{case_id}", params={"lang": "en"}).text
    row = re.search(r"<h2>Who was notified when</h2>\s*<table>.*?</table>", html, re.S)
    assert row is not None and bundle["notifications"][0]["at_local"] in row.group(0)
    assert "<td>keyholder</td><td>email</td><td>notify_keyholders</td>" in row.group(0)
    text = _pdf_text(client.get(f"/dossiers/incident/{case_id}.pdf",
                                params={"lang": "en"}).content)
    assert "Recipient:keyholder;Channel:email;Step:notify_keyholders" in text
    for secret in ("keyholder.seven@example.invalid", "keyholder:7", *PRIVATE):
        assert secret not in html and secret not in text
