"""Writing what a batch decided: one statement per table (executemany on SQLite), and on
PostgreSQL every row in one pipelined round trip."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from shelterwatch.intake.core import Batch, StatusRow
from shelterwatch.intake.sql import FACTS, INSERT_OBSERVATIONS, INSERT_STATUSES, UPDATE_STATUS
from shelterwatch.log import service as log

Writes = list[tuple[Any, list[dict[str, Any]]]]


def write(session: Session, state: Batch, now: datetime, also: Writes) -> None:
    """The batch's rows, one statement per table, then the caller's."""
    conn = session.connection()
    if not state.facts:
        for statement, rows in also:
            conn.execute(statement, rows)
        return
    new, old = [], []
    for k, v in state.status_rows.items():
        if k in state.new_status_ids:
            new.append({c: getattr(v, c) for c in StatusRow.__slots__})
        else:
            old.append({f"b_{c}": getattr(v, c) for c in StatusRow.__slots__})
    if conn.dialect.name == "postgresql":
        facts = log.chained(state.facts, now=now, head=state.head)
        last = facts[-1]
        if last["seq"] != state.next_seq - 1:
            raise RuntimeError("the log moved under its lock; the batch is not written")
        pipelined(conn, [
            (FACTS, facts),
            (log.MOVE_HEAD_AND_NOTIFY, [{"new_seq": last["seq"], "new_hash": last["hash"],
                                         "channel": log.NOTIFY_CHANNEL,
                                         "last": str(last["seq"])}]),
            (INSERT_OBSERVATIONS, state.observation_rows), (INSERT_STATUSES, new),
            (UPDATE_STATUS, old), *also])
    else:
        seqs = log.append_many(session, state.facts, now=now, locked_head=state.head)
        if seqs[-1] != state.next_seq - 1:
            raise RuntimeError("the log moved under its lock; the batch is not written")
        conn.execute(INSERT_OBSERVATIONS, state.observation_rows)
        if new:
            conn.execute(INSERT_STATUSES, new)
        if old:  # an UPDATE by primary key per row, sent as one executemany
            conn.execute(UPDATE_STATUS, old)
        for statement, rows in also:
            conn.execute(statement, rows)
    session.add_all(state.opened)
    if session.dirty or session.new:
        session.flush()  # incidents opened, joined or resolved


_SQL: dict[tuple[int, str], tuple[str, dict[str, Any]]] = {}


def pipelined(conn: Connection, writes: Sequence[tuple[Any, list[dict[str, Any]]]]) -> None:
    """PostgreSQL: every row of the batch in one round trip, not one per statement.

    psycopg's pipeline sends each statement without waiting for the one before to be answered;
    the server still runs them in order, in this transaction, and the first error stops the rest
    and is raised here, as SQLAlchemy would have raised it (so a duplicate key is still an
    IntegrityError to the writer).
    """
    raw: Any = conn.connection.driver_connection
    sent: list[tuple[str, list[dict[str, Any]]]] = []
    for statement, rows in writes:
        if rows:
            key = (id(statement), ",".join(rows[0]))
            if key not in _SQL:
                compiled = statement.compile(dialect=conn.dialect, column_keys=list(rows[0]))
                _SQL[key] = (str(compiled), dict(compiled.params))
            sql, defaults = _SQL[key]
            sent.append((sql, [{**defaults, **row} for row in rows]))
    try:
        with raw.pipeline(), raw.cursor() as cursor:
            for sql, params in sent:
                cursor.executemany(sql, params)
    except conn.dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(sql, params, exc, conn.dialect.loaded_dbapi.Error) from exc
