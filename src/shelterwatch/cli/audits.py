"""`shelterwatch audits …`: the XLSForm for ODK Collect / KoboToolbox, importing their
submissions, the Lviv open-data export and the PDF inspection act."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shelterwatch import db
from shelterwatch.audits import checklist as checklists
from shelterwatch.audits import exports, interop, photos
from shelterwatch.audits import service as audits
from shelterwatch.cli.common import console, err_console, fail, one_line_errors
from shelterwatch.clock import utcnow
from shelterwatch.config import get_settings
from shelterwatch.errors import ShelterwatchError
from shelterwatch.observations import idempotency

app = typer.Typer(help="Readiness audits: field forms, imports, exports.", no_args_is_help=True)


@app.command("xlsform")
@one_line_errors
def xlsform(out: Path) -> None:
    """Write the current checklist as an XLSForm (load it into KoboToolbox or ODK Central)."""
    interop.write_xlsform(checklists.load(), out)
    console.print(f"wrote {out} (form {interop.form_id(checklists.load())})")


@app.command("import")
@one_line_errors
def import_submissions(
    path: Path,
    photos_dir: Annotated[Path | None, typer.Option(
        "--photos", help="directory holding the attachments")] = None,
) -> None:
    """Import ODK/Kobo submissions (Kobo JSON or ODK Central CSV) as audits, each once."""
    settings = get_settings()
    store = photos.store_for(settings)
    checklist = checklists.load()
    added = skipped = 0
    failed: list[str] = []
    for item in interop.submissions(checklist, path, photo_dir=photos_dir,
                                    max_bytes=settings.photo_max_bytes):
        if isinstance(item, ValueError):
            failed.append(str(item))
            continue
        sub = item.submission
        with db.transaction(settings.database_url) as session, idempotency.one_writer(session):
            if audits.find_external(session, sub.source, sub.external_id or ""):
                skipped += 1
                continue
            try:
                audits.record(session, sub, actor=f"import:{sub.source}", now=utcnow(),
                              settings=settings, store=store)
            except ShelterwatchError as e:
                session.rollback()
                failed.append(f"{item.where}: {e.detail}")
                continue
        added += 1
    console.print(f"imported {added} audits, {skipped} already imported, {len(failed)} refused")
    for reason in failed[:20]:
        err_console.print(f"  {reason}", highlight=False)
    if failed:
        raise fail(f"{len(failed)} submissions were not imported (reasons above)")


@app.command("export-lviv")
@one_line_errors
def export_lviv(out: Path) -> None:
    """Shelters and their audit results in the Lviv oblast open-data schema (CSV)."""
    settings = get_settings()
    with db.reading(settings.database_url) as session:
        rows = exports.write_lviv_csv(session, out, base_url=settings.public_base_url)
    console.print(f"wrote {rows} rows to {out}")


@app.command("act")
@one_line_errors
def act(audit_id: int, out: Path) -> None:
    """The inspection act of one audit as a PDF."""
    settings = get_settings()
    with db.reading(settings.database_url) as session:
        out.write_bytes(exports.act_pdf(session, audit_id, timezone=settings.timezone))
    console.print(f"wrote {out}")
