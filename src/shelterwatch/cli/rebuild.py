"""`shelterwatch rebuild`: recompute every derived table from the fact log and now (DESIGN §3.3).

Evidence first (observations, statuses, incidents, place reports), then what the escalation
derives from it (patrol tasks, ladder steps, timers); both modules' docstrings list what they
derive and which tables are primary records left alone. Stop the worker while it runs.
"""

from __future__ import annotations

from shelterwatch import db
from shelterwatch.audits.rebuild import rebuild as rebuild_readiness
from shelterwatch.cli.common import console, fail, one_line_errors
from shelterwatch.clock import utcnow
from shelterwatch.config import get_settings
from shelterwatch.escalation.rebuild import rebuild as rebuild_escalation
from shelterwatch.incidents.rebuild import rebuild as rebuild_evidence


@one_line_errors
def rebuild() -> None:
    """Replay the log into observations, statuses, incidents, place reports, tasks, timers and
    the audits' readiness and ghost list."""
    settings = get_settings()
    with db.transaction(settings.database_url) as session:
        result = rebuild_evidence(session)
        loop = rebuild_escalation(session, settings=settings, now=utcnow())
        ready = rebuild_readiness(session)
    console.print(f"rebuilt from {result.facts} facts: {result.observations} observations, "
                  f"{result.incidents} incidents, {result.place_reports} place reports, "
                  f"{loop.tasks} patrol tasks, {loop.steps} ladder steps, {loop.timers} timers "
                  f"({loop.pending_timers} pending), readiness of {ready.shelters} audited "
                  f"shelters ({ready.ghosts} ghosts)")
    if result.mismatches:
        shown = ", ".join(str(s) for s in result.mismatches[:10])
        raise fail(f"{len(result.mismatches)} status facts were not reproduced (seq {shown})")
    if ready.mismatches:
        shown = ", ".join(str(s) for s in ready.mismatches[:10])
        raise fail(f"readiness of {len(ready.mismatches)} shelters was not reproduced "
                   f"(shelter {shown})")
