"""What an audit sends out: the owner told of each deficiency, residents' missing reports
confirmed into a ghost, the Lviv open-data table and the PDF inspection act."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from shelterwatch import db
from shelterwatch.cli.main import app
from shelterwatch.clock import utcnow
from shelterwatch.config import get_settings
from shelterwatch.keyholders import service as keyholders
from shelterwatch.outbox.models import Delivery
from shelterwatch.shelters.models import Shelter
from tests.audits.support import all_pass, b64, png


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _first_shelter() -> tuple[int, str]:
    with db.reading(get_settings().database_url) as s:
        sid, kind = s.execute(select(Shelter.id, Shelter.kind).order_by(Shelter.id)
                              .limit(1)).one()
    return int(sid), str(kind)


def test_each_deficiency_reaches_the_owner_and_the_owner_closes_it_with_a_photo(
        kyiv_client: TestClient, make_token: Callable[..., str]) -> None:
    sid, kind = _first_shelter()
    with db.transaction(get_settings().database_url) as s:
        keyholders.create_owner(s, contact=keyholders.ContactIn(
            name="КП Житлосервіс", email="owner@example.invalid"), shelter_ids=[sid],
            now=utcnow(), actor="test")
    checklist = kyiv_client.get("/v1/checklist").json()
    made = kyiv_client.post("/v1/audits", headers=_auth(make_token("auditor")), json={
        "shelter_id": sid, "tier": "full",
        "answers": all_pass(checklist, kind) | {"first_aid": "fail"},
        "photos": [{"item_id": "first_aid", "data": b64(png(4))}]})
    assert made.status_code == 201, made.text
    with db.reading(get_settings().database_url) as s:
        sent = s.execute(select(Delivery.channel, Delivery.address, Delivery.body)).all()
    assert [(c, a) for c, a, _ in sent] == [("email", "owner@example.invalid")]
    assert "first_aid (major, by " in sent[0][2] and "photo of the fix" in sent[0][2]

    owner = make_token("owner", shelter_ids=(sid,))
    other = make_token("owner", shelter_ids=(sid + 1,))
    mine = kyiv_client.get("/v1/deficiencies", headers=_auth(owner)).json()["deficiencies"]
    assert [d["item_id"] for d in mine] == ["first_aid"] and mine[0]["overdue"] is False
    assert kyiv_client.get("/v1/deficiencies", headers=_auth(other)).json()[
        "deficiencies"] == []
    refused = kyiv_client.post(f"/v1/deficiencies/{mine[0]['id']}/close", headers=_auth(other),
                               json={"photo": b64(png(5))})
    assert refused.status_code == 403
    no_photo = kyiv_client.post(f"/v1/deficiencies/{mine[0]['id']}/close",
                                headers=_auth(owner), json={"photo": b64(b"not an image")})
    assert no_photo.status_code == 422
    closed = kyiv_client.post(f"/v1/deficiencies/{mine[0]['id']}/close", headers=_auth(owner),
                              json={"photo": b64(png(5))})
    assert closed.status_code == 200 and closed.json()["readiness"]["category"] == "ready"
    stats = kyiv_client.get("/v1/owner/stats", headers=_auth(owner)).json()
    assert stats["open_deficiencies"] == []


def test_residents_missing_reports_confirmed_by_an_auditor_make_a_ghost(
        kyiv_client: TestClient, make_token: Callable[..., str]) -> None:
    sid, _ = _first_shelter()
    report = kyiv_client.post("/v1/reports", json={"shelter_id": sid, "kind": "missing",
                                                   "device_id": "phone-g1"})
    assert report.status_code == 201, report.text
    tracking = report.json()["tracking_id"]
    auditor = make_token("auditor")
    wrong = kyiv_client.post("/v1/ghosts", headers=_auth(auditor), json={
        "shelter_id": sid + 1, "reason": "does_not_exist", "observation_ids": [tracking]})
    assert wrong.status_code == 422 and tracking in wrong.json()["detail"]
    made = kyiv_client.post("/v1/ghosts", headers=_auth(auditor), json={
        "shelter_id": sid, "reason": "does_not_exist", "observation_ids": [tracking],
        "photo": b64(png(8))})
    assert made.status_code == 201, made.text
    listed = kyiv_client.get("/v1/ghosts").json()["ghosts"]
    assert listed[0]["shelter"]["id"] == sid
    assert listed[0]["evidence"]["observations"] == [tracking]
    assert sid not in [f["id"] for f in kyiv_client.get("/v1/pack").json()["shelters"]]
    assert kyiv_client.post("/v1/ghosts", headers=_auth(auditor), json={
        "shelter_id": sid, "reason": "does_not_exist",
        "observation_ids": [tracking]}).status_code == 409


def test_the_lviv_table_and_the_inspection_act(
        kyiv_client: TestClient, make_token: Callable[..., str], tmp_path: Path) -> None:
    sid, kind = _first_shelter()
    checklist = kyiv_client.get("/v1/checklist").json()
    made = kyiv_client.post("/v1/audits", headers=_auth(make_token("auditor")), json={
        "shelter_id": sid, "tier": "full",
        "answers": all_pass(checklist, kind) | {"water_present": "fail"},
        "photos": [{"item_id": "water_present", "data": b64(png(6))}],
        "lat": 50.45, "lon": 30.52, "accuracy_m": 5}).json()
    out = tmp_path / "lviv.csv"
    result = CliRunner().invoke(app, ["audits", "export-lviv", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert {"shelterId", "shelterType", "atuCode", "normsNumber", "paragraphNumber", "status",
            "image"} <= set(rows[0])
    water = next(r for r in rows if r["shelterId"] == str(sid)
                 and r["status"] == "fail")
    assert water["image"].endswith(made["photos"][0]["sha256"])
    assert water["normsNumber"].startswith("Requirements for the simplest shelters")
    assert water["readiness"] == "limited"
    assert sum(1 for r in rows if r["status"] == "not_audited") == 3694 - 1
    assert "50.45" not in out.read_text(encoding="utf-8")  # never where the inspector stood
    act = kyiv_client.get(f"/v1/audits/{made['id']}/act.pdf")
    assert act.status_code == 200 and act.content.startswith(b"%PDF")
    assert act.headers["content-type"] == "application/pdf"
