"""`shelterwatch pack publish DIR`: write the offline pack as static files for nginx or a CDN."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shelterwatch import db
from shelterwatch.alerts import service as alerts
from shelterwatch.cli.common import console, one_line_errors
from shelterwatch.clock import utcnow
from shelterwatch.config import get_settings
from shelterwatch.pack import published
from shelterwatch.pack import service as packs
from shelterwatch.pack.incremental import IncrementalPack

app = typer.Typer(help="The offline pack as static files.", no_args_is_help=True)


@app.command("publish")
@one_line_errors
def publish(directory: Annotated[Path, typer.Argument(help="where pack.json(.gz) go")]) -> None:
    """Build the pack from the database and publish it atomically (nothing if unchanged).

    The worker keeps the same files current when `SHELTERWATCH_PACK_DIR` names the directory.
    """
    pack = IncrementalPack()
    settings = get_settings()
    with db.reading(settings.database_url) as session:
        pack.load(session)
        extras = packs.extras(session, now=utcnow(), config=alerts.warning_config(settings))
    rendered = pack.render(extras)
    changed = published.publish(directory, rendered)
    console.print(f"pack {rendered.etag} ({len(pack.order)} shelters, "
                  f"{len(rendered.gzipped)} bytes compressed) "
                  f"{'published' if changed else 'unchanged'} in {directory}", highlight=False)
