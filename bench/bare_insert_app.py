"""The real app plus one bench-only route: a bare single-row INSERT committed per request.

`bench/reports.py` serves this module with uvicorn exactly as it serves the real app, so the bare
figure pays the same HTTP server, middleware, body parsing and validation (`ReportIn`) as a real
report; only the handler differs: it inserts the same observation row and commits, and nothing
more (no fact, no status, no receipt, no idempotency key, no group commit).
"""

from __future__ import annotations

import secrets

from fastapi import Response
from sqlalchemy import insert

from shelterwatch import db
from shelterwatch.app import create_app
from shelterwatch.clock import utcnow
from shelterwatch.observations.models import Observation
from shelterwatch.reports.schemas import ReportIn

app = create_app()


def bare_insert(report: ReportIn) -> Response:
    """One row, one transaction, one commit, then 201; a plain sync handler in the threadpool."""
    row = {"id": "B" + secrets.token_hex(7), "shelter_id": report.shelter_id,
           "kind": report.kind, "role": "resident", "reporter": "d:" + "0" * 24,
           "distance_m": 12.5, "reason": "", "at": utcnow(), "alert_id": None,
           "incident_id": None, "routed_to": None, "seq": 0}
    with db.engine_for(app.state.settings.database_url).begin() as conn:
        conn.execute(insert(Observation), row)
    return Response(b'{"ok":true}', status_code=201, media_type="application/json")


app.add_api_route("/bench/bare-insert", bare_insert, methods=["POST"], status_code=201)
