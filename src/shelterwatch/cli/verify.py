"""`shelterwatch log verify`: anyone can check the record has not been edited."""

from __future__ import annotations

from pathlib import Path

import typer
from sqlalchemy.engine import make_url

from shelterwatch import db
from shelterwatch.cli.common import console, fail, one_line_errors
from shelterwatch.config import get_settings
from shelterwatch.log import service as log

app = typer.Typer(help="The tamper-evident fact log.", no_args_is_help=True)


@app.command("verify")
@one_line_errors
def verify() -> None:
    """Exit 0 if the chain is intact; otherwise name the first broken seq and exit 1."""
    url = get_settings().database_url
    if db.is_sqlite(url):
        path = make_url(url).database
        if path and path != ":memory:" and not Path(path).is_file():
            # Opening it would create an empty database, and an empty log verifies.
            raise fail(f"no database at {path} (check DATABASE_URL)")
    with db.reading(url) as session:
        verdict = log.verify(session)
    if not verdict.ok:
        raise fail(f"log broken at seq {verdict.broken_seq}: {verdict.reason}")
    console.print(f"log intact: {verdict.checked} facts verified")
