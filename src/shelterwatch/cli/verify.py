"""`shelterwatch log …`: anyone can check the record has not been edited, cut or rewound."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import make_url

from shelterwatch import db
from shelterwatch.cli.common import console, fail, one_line_errors
from shelterwatch.clock import utcnow
from shelterwatch.config import get_settings
from shelterwatch.log import service as log
from shelterwatch.log import tree
from shelterwatch.log.publisher import Publisher
from shelterwatch.worker import heads

app = typer.Typer(help="The tamper-evident fact log.", no_args_is_help=True)


@app.command("verify")
@one_line_errors
def verify(against: Annotated[Path | None, typer.Option(
        help="a signed tree head saved earlier (GET /v1/log/sth); the log must extend it")]
        = None) -> None:
    """Check the chain, the Merkle tree and every signed head; exit 1 naming what is wrong."""
    url = get_settings().database_url
    if db.is_sqlite(url):
        path = make_url(url).database
        if path and path != ":memory:" and not Path(path).is_file():
            # Opening it would create an empty database, and an empty log verifies.
            raise fail(f"no database at {path} (check DATABASE_URL)")
    saved = None
    if against is not None:
        try:
            saved = tree.SavedHead.parse(json.loads(against.read_text(encoding="utf-8")))
        except json.JSONDecodeError as exc:
            raise fail(f"{against} is not JSON: {exc}") from None
    with db.reading(url) as session:
        verdict = log.verify(session)
        problems = tree.verify(session, against=saved)
        latest = tree.latest_head(session)
        signed = (f"; latest signed head: {latest.tree_size} facts" if latest
                  else "; no signed head yet")
    if not verdict.ok:
        raise fail(f"log broken at seq {verdict.broken_seq}: {verdict.reason}")
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise fail(problems[0] + more)
    extends = f"; extends the saved head of {saved.tree_size} facts" if saved else ""
    console.print(f"log intact: {verdict.checked} facts verified{signed}{extends}")


@app.command("head")
@one_line_errors
def head() -> None:
    """Bring the tree up to the log's end, sign a head now and print it (JSON) to save."""
    view = heads.tick(Publisher(get_settings()), now=utcnow(), force=True)
    if view is None:
        raise fail("the log is empty: nothing to sign")
    print(json.dumps(view))
