"""Readiness of a process that follows the log: the database answers and the process is not
far behind it. The API's `/v1/health` and the stream server's answer the same body from here, so
a proxy or a person on call reads one shape whichever process they ask."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from shelterwatch import db
from shelterwatch.log import service as log

MAX_LAG = 10_000  # facts not yet applied before the process counts as behind


def readiness(database_url: str, applied_seq: int) -> tuple[bool, dict[str, Any]]:
    """Whether the process is ready, and the body that says so (it reads the database)."""
    body: dict[str, Any] = {"database": db.engine_for(database_url).dialect.name,
                            "applied_seq": applied_seq}
    try:
        with db.reading(database_url) as session:
            body["last_seq"] = log.last_seq(session)
    except SQLAlchemyError as exc:
        body.update(ok=False, detail=f"database does not answer: {type(exc).__name__}")
        return False, body
    behind = body["last_seq"] - applied_seq
    body["ok"] = behind <= MAX_LAG
    if not body["ok"]:
        body["detail"] = f"{behind} facts not yet applied"
    return body["ok"], body
