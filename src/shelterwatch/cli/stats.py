"""`shelterwatch stats rebuild`: recompute the accountability rollups from the whole log."""

from __future__ import annotations

import typer

from shelterwatch import db
from shelterwatch.cli.common import console, one_line_errors
from shelterwatch.config import get_settings
from shelterwatch.stats import service as stats

app = typer.Typer(help="Accountability statistics.", no_args_is_help=True)


@app.command("rebuild")
@one_line_errors
def rebuild() -> None:
    """Empty the rollups and replay every fact into them; equal to what the worker keeps."""
    with db.transaction(get_settings().database_url) as session:
        applied = stats.rebuild(session)
    console.print(f"statistics rebuilt from {applied} facts")
