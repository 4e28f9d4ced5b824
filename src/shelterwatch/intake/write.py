"""Writing what the intake decided (an `Outcome`) as rows: one statement per table
(executemany on SQLite), and on PostgreSQL every row in one pipelined round trip."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from shelterwatch.incidents.models import Incident
from shelterwatch.intake.core import Case, Outcome, StatusRow
from shelterwatch.intake.sql import (
    FACTS,
    INSERT_CASES,
    INSERT_OBSERVATIONS,
    INSERT_STATUSES,
    UPDATE_CASE,
    UPDATE_STATUS,
)
from shelterwatch.log import service as log

Writes = list[tuple[Any, list[dict[str, Any]]]]
_CASE_MOVES = ("me_too", "last_report_at", "resolved_at", "resolution", "resolved_by",
               "time_to_open_s")


def write(session: Session, outcome: Outcome, *, head: tuple[int, str], now: datetime,
          also: Writes) -> None:
    """The outcome's rows, one statement per table, then the caller's."""
    conn = session.connection()
    if not outcome.facts:
        for statement, rows in also:
            conn.execute(statement, rows)
        return
    new, old = [], []
    for k, v in outcome.statuses.items():
        if k in outcome.new_statuses:
            new.append({c: getattr(v, c) for c in StatusRow.__slots__})
        else:
            old.append({f"b_{c}": getattr(v, c) for c in StatusRow.__slots__})
    opened = [{c: getattr(case, c) for c in Case.__slots__} for case in outcome.opened]
    changed = [{f"b_{c}": getattr(case, c) for c in ("id", *_CASE_MOVES)}
               for case in outcome.changed]
    drafts = [log.NewFact(f.kind, f.actor, f.payload, f.private) for f in outcome.facts]
    last_seq = outcome.after.next_seq - 1
    if conn.dialect.name == "postgresql":
        facts = log.chained(drafts, now=now, head=head)
        last = facts[-1]
        if last["seq"] != last_seq:
            raise RuntimeError("the log moved under its lock; the batch is not written")
        pipelined(conn, [
            (FACTS, facts),
            (log.MOVE_HEAD_AND_NOTIFY, [{"new_seq": last["seq"], "new_hash": last["hash"],
                                         "channel": log.NOTIFY_CHANNEL,
                                         "last": str(last["seq"])}]),
            (INSERT_CASES, opened), (UPDATE_CASE, changed),
            (INSERT_OBSERVATIONS, outcome.observations), (INSERT_STATUSES, new),
            (UPDATE_STATUS, old), *also])
    else:
        seqs = log.append_many(session, drafts, now=now, locked_head=head)
        if seqs[-1] != last_seq:
            raise RuntimeError("the log moved under its lock; the batch is not written")
        for statement, rows in ((INSERT_CASES, opened), (UPDATE_CASE, changed),
                                (INSERT_OBSERVATIONS, outcome.observations),
                                (INSERT_STATUSES, new), (UPDATE_STATUS, old), *also):
            if rows:  # an UPDATE by primary key per row is still one executemany
                conn.execute(statement, rows)
    _forget_stale(session, [c.id for c in outcome.changed])


def _forget_stale(session: Session, case_ids: list[int]) -> None:
    """A case the caller's session had loaded is now stale: it reloads on its next read."""
    for case_id in case_ids:
        held = session.identity_map.get(identity_key(Incident, case_id))
        if held is not None:
            session.expire(held)


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
