"""The field's tools: the XLSForm passes pyxform's own conversion and validation, and a
Kobo-shaped submission with its photo imports into the same audit records, once."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from pyxform.xls2xform import xls2xform_convert
from sqlalchemy import select
from typer.testing import CliRunner

from shelterwatch import db
from shelterwatch.audits import checklist as checklists
from shelterwatch.audits import interop
from shelterwatch.audits.models import Audit, AuditPhoto, ShelterReadiness
from shelterwatch.cli.main import app
from shelterwatch.config import Settings
from shelterwatch.shelters.models import Shelter
from tests.audits.support import png

JAVA = shutil.which("java") is not None  # ODK Validate, which pyxform bundles, runs on Java
FIXTURES = Path(__file__).parent.parent / "fixtures" / "audits"


def test_the_xlsform_passes_pyxform_and_asks_every_item(tmp_path: Path) -> None:
    out = tmp_path / "readiness.xlsx"
    result = CliRunner().invoke(app, ["audits", "xlsform", str(out)])
    assert result.exit_code == 0, result.output
    xform = tmp_path / "readiness.xml"
    convert = xls2xform_convert(xlsform_path=str(out), xform_path=str(xform), validate=JAVA)
    assert convert == []  # no warnings either; with Java, ODK Validate (bundled) ran too
    xml = xform.read_text(encoding="utf-8")
    checklist = checklists.load()
    for item in checklist.items:
        assert f"/g_{item.group}/{item.id}" in xml
    # A photo is required exactly when the answer is "fail", and the phone downscales it.
    assert "/g_water/water_present_photo" in xml and "max-pixels" in xml
    assert "${water_present} = 'fail'" not in xml  # pyxform resolved the reference


def _kobo_submission(kind: str, shelter_id: int, photo_name: str) -> dict[str, Any]:
    envelope = json.loads((FIXTURES / "kobo_submission_envelope.json").read_text())
    envelope.pop("_comment")
    answers: dict[str, Any] = {}
    for item in checklists.load().items:
        if item.applies_to(kind):
            value: Any = "100000" if item.answer.value == "number" else "pass"
            answers[f"g_{item.group}/{item.id}"] = value
    answers["g_water/water_present"] = "fail"
    answers["g_water/water_present_photo"] = photo_name
    return {**envelope, "shelter_id": str(shelter_id), "tier": "full", "shelter_kind": kind,
            "location": "50.4501 30.5234 170.0 6.0", **answers}


def test_a_kobo_submission_with_its_photo_imports_once(
        kyiv_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHELTERWATCH_PHOTO_DIR", str(tmp_path / "photos"))
    from shelterwatch.config import get_settings

    get_settings.cache_clear()
    with db.reading(kyiv_settings.database_url) as session:
        shelter = session.execute(select(Shelter).order_by(Shelter.id).limit(1)).scalar_one()
        sid, kind = shelter.id, shelter.kind
    photo = png(5)
    attachments = tmp_path / "attachments"
    attachments.mkdir()
    (attachments / "1780384428915.png").write_bytes(photo)
    export = tmp_path / "kobo.json"
    submission = _kobo_submission(kind, sid, "1780384428915.png")
    export.write_text(json.dumps({"count": 1, "next": None, "previous": None,
                                  "results": [submission]}))
    runner = CliRunner()
    for _ in range(2):
        result = runner.invoke(app, ["audits", "import", str(export), "--photos",
                                     str(attachments)])
        assert result.exit_code == 0, result.output
    assert "already imported" in result.output
    with db.reading(kyiv_settings.database_url) as session:
        rows = session.execute(select(Audit)).scalars().all()
        assert len(rows) == 1
        audit = rows[0]
        assert (audit.source, audit.external_id) == ("kobo", submission["meta/instanceID"])
        assert audit.accuracy_m == 6.0 and not audit.gps_flagged
        assert audit.category == "limited"  # water_present is a major item
        sha = session.execute(select(AuditPhoto.sha256)).scalar_one()
        assert sha == hashlib.sha256(photo).hexdigest()
        readiness = session.get(ShelterReadiness, sid)
        assert readiness is not None and readiness.category == "limited"
    assert (tmp_path / "photos" / sha[:2] / sha).read_bytes() == photo


def test_a_submission_without_its_photo_is_refused_by_name(tmp_path: Path) -> None:
    raw = _kobo_submission("simple", 1, "missing.png")
    with pytest.raises(ValueError, match="missing.png"):
        interop.submission_of(checklists.load(), raw, source="kobo", photo_dir=tmp_path,
                              max_bytes=500_000, position=1)
