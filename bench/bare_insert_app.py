"""The bare baseline over HTTP: a tiny Starlette app of its own, one raw INSERT per request.

Nothing of the product is in it but the body's model (`ReportIn`, so both pay the same
validation): no middleware, no fact, no status, no receipt, no idempotency key, no group commit.
It talks to the database through the raw driver (sqlite3 with the product's WAL and
synchronous=FULL, or psycopg), one connection per server thread, so what it measures is HTTP
plus one durable insert. `bench/reports.py` serves it with uvicorn beside `shelterwatch serve`:

    DATABASE_URL=sqlite:///var/x.sqlite3 uvicorn bare_insert_app:app  (from bench/)
"""

from __future__ import annotations

import os
import secrets
import threading
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shelterwatch.reports.schemas import ReportIn

URL = os.environ.get("DATABASE_URL", "")  # the served app's database
COLUMNS = ("id", "shelter_id", "kind", "role", "reporter", "source", "distance_m", "reason", "at",
           "alert_id", "incident_id", "routed_to", "seq")
_local = threading.local()


def connect(url: str) -> tuple[Any, str]:
    """A raw driver connection and its INSERT, set up as the product sets up its own."""
    if url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(url.split(":///", 1)[1], isolation_level=None,
                               check_same_thread=False)
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "busy_timeout=30000"):
            conn.execute(f"PRAGMA {pragma}")
        marks = ", ".join("?" for _ in COLUMNS)
        return conn, f"INSERT INTO observations ({', '.join(COLUMNS)}) VALUES ({marks})"
    import psycopg

    conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1))
    marks = ", ".join("%s" for _ in COLUMNS)
    return conn, f"INSERT INTO observations ({', '.join(COLUMNS)}) VALUES ({marks})"


def insert_one(url: str, report_kind: str, shelter_id: int) -> None:
    """One row, one transaction, one durable commit, on this thread's own connection."""
    if not hasattr(_local, "conn"):
        _local.conn, _local.sql = connect(url)
    at: Any = datetime.now(UTC)
    conn, sqlite = _local.conn, url.startswith("sqlite")
    if sqlite:
        at = at.isoformat(sep=" ")
        conn.execute("BEGIN IMMEDIATE")
    conn.execute(_local.sql, ("B" + secrets.token_hex(7), shelter_id, report_kind, "resident",
                              "d:" + "0" * 24, "", 12.5, "", at, None, None, None, 0))
    if sqlite:
        conn.execute("COMMIT")
    else:
        conn.commit()


async def bare_insert(request: Request) -> Response:
    try:
        report = ReportIn.model_validate(orjson.loads(await request.body()))
    except (ValidationError, orjson.JSONDecodeError) as exc:
        return Response(str(exc), status_code=422)
    await run_in_threadpool(insert_one, URL, report.kind, report.shelter_id)
    return Response(orjson.dumps({"ok": True}), status_code=201,
                    media_type="application/json")


async def ready(request: Request) -> Response:
    return Response(b"ok")


app = Starlette(routes=[Route("/bare-insert", bare_insert, methods=["POST"]),
                        Route("/ready", ready)])
