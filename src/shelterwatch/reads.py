"""A transaction's opening reads, sent in one round trip where the database has round trips.

The report writer's transaction opens with reads that depend on its batch alone: the receipts
already stored for its keys, the limits' locks and cells, the log's head under its lock. Sent
one after another on PostgreSQL, each waited a round trip, and the first of them met the moment
the batch's clients woke to build their next reports. psycopg's pipeline sends them together;
the server still runs them in the order asked, in the transaction, each after the locks the one
before took, so what they read is what reading them one by one would have read. On SQLite
(a library in the process) they simply run in order.

Each read is a SQLAlchemy Core statement compiled once per process; its binds go through their
types' processors, as SQLAlchemy's own execution would send them. Rows come back as named
tuples (`row.key`, `row._asdict()`), without SQLAlchemy's result processing: the statements
read here return what psycopg already gives as Python values (text, numbers, aware times).
The connection's `before_cursor_execute` listeners are told of each statement, as SQLAlchemy
would tell them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError


@dataclass(eq=False)
class Read:
    """One statement asked for, and once sent, its rows."""

    statement: Any
    params: dict[str, Any]
    rows: list[Any] = field(default_factory=list)
    sent: bool = False

    def first(self) -> Any | None:
        return self.rows[0] if self.rows else None


class Reads:
    """Statements to send together, in the order asked."""

    def __init__(self) -> None:
        self._asked: list[Read] = []

    def ask(self, statement: Any, params: dict[str, Any] | None = None) -> Read:
        read = Read(statement, params or {})
        self._asked.append(read)
        return read

    def send(self, conn: Connection) -> None:
        """Run every statement asked so far, in order, in the caller's transaction."""
        asked, self._asked = self._asked, []
        if not asked:
            return
        if conn.dialect.name == "postgresql":
            _pipelined(conn, asked)
        else:
            for read in asked:
                result = conn.execute(read.statement, read.params)
                read.rows = list(result) if result.returns_rows else []
        for read in asked:
            read.sent = True


def _pipelined(conn: Connection, asked: list[Read]) -> None:
    from psycopg.rows import namedtuple_row

    raw: Any = conn.connection.driver_connection
    # Listeners of the connection's statements (logging, tests) see these as any other.
    told = conn._has_events or conn.engine._has_events
    cursors: list[Any] = []
    sql: str = ""
    params: dict[str, Any] = {}
    try:
        with raw.pipeline():
            for read in asked:
                sql, params = _compiled(conn.dialect, read.statement, read.params)
                cursor = raw.cursor(row_factory=namedtuple_row)
                cursors.append(cursor)
                if told:
                    conn.dispatch.before_cursor_execute(conn, cursor, sql, params, None, False)
                cursor.execute(sql, params)
        for read, cursor in zip(asked, cursors, strict=True):
            read.rows = cursor.fetchall() if cursor.description is not None else []
    except conn.dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(sql, params, exc, conn.dialect.loaded_dbapi.Error) from exc
    finally:
        for cursor in cursors:
            cursor.close()


# Keyed by the statement's identity, and holding the statement so that identity is never
# reused: only statements built once, at import, are asked for.
_COMPILED: dict[tuple[int, str], tuple[Any, str, Any, dict[str, Any]]] = {}


def _compiled(dialect: Dialect, statement: Any,
              params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The statement's SQL for the driver, and `params` as its binds, processed."""
    key = (id(statement), dialect.name)
    found = _COMPILED.get(key)
    if found is None:
        compiled: Any = statement.compile(dialect=dialect)
        processors = {name: bind.type._cached_bind_processor(dialect)
                      for name, bind in compiled.binds.items()}
        found = (statement, str(compiled), compiled,
                 {n: p for n, p in processors.items() if p})
        _COMPILED[key] = found
    _, sql, compiled, processors = found
    values = compiled.construct_params(params)
    for name, process in processors.items():
        if values.get(name) is not None:
            values[name] = process(values[name])
    return sql, values
