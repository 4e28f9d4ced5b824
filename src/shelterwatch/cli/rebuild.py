"""`shelterwatch rebuild`: recompute the evidence tables from the fact log (DESIGN §3.3)."""

from __future__ import annotations

from shelterwatch import db
from shelterwatch.cli.common import console, fail, one_line_errors
from shelterwatch.config import get_settings
from shelterwatch.incidents.rebuild import rebuild as rebuild_evidence


@one_line_errors
def rebuild() -> None:
    """Replay the log into observations, statuses, incidents and place reports."""
    with db.transaction(get_settings().database_url) as session:
        result = rebuild_evidence(session)
    console.print(f"rebuilt from {result.facts} facts: {result.observations} observations, "
                  f"{result.incidents} incidents, {result.place_reports} place reports")
    if result.mismatches:
        shown = ", ".join(str(s) for s in result.mismatches[:10])
        raise fail(f"{len(result.mismatches)} status facts were not reproduced (seq {shown})")
