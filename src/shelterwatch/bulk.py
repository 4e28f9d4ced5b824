"""Writing many rows past the ORM, for the few paths where SQLAlchemy's per-row and
per-execute work costs more than the write itself: registry and keyholder imports, the log's
appends, a batch of residents' reports.

`insert` sends one table's rows (COPY on PostgreSQL past a few rows); `write_all` a batch's
statements in order, to the driver directly on SQLite and in one pipelined round trip on
PostgreSQL. Both run in the caller's transaction and raise SQLAlchemy's errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, DateTime, Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session


def _sqlite_datetime(value: datetime | None) -> str | None:
    # The text form SQLAlchemy's SQLite DateTime type stores and reads back.
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def insert(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert many rows with one DBAPI executemany, skipping per-value ORM processing.

    For the few write paths where that processing costs more than the write (registry imports,
    log appends). Rows must share their keys; values are plain Python scalars and datetimes.
    """
    if not rows:
        return
    columns = list(rows[0])
    conn = session.connection()
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) "
           f"VALUES ({', '.join([mark] * len(columns))})")
    pick = itemgetter(*columns)  # C speed: per-row generator tuples were a third of the cost
    params = [pick(row) for row in rows] if len(columns) > 1 else [(row[columns[0]],)
                                                                   for row in rows]
    if conn.dialect.name == "sqlite":
        stamps = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, DateTime)]
        if stamps:
            # Column by column (a transpose runs at C speed), each distinct time formatted once:
            # a batch mostly shares one `now`.
            memo: dict[datetime | None, str | None] = {}
            by_column: list[Any] = list(zip(*params, strict=True))
            for i in stamps:
                for v in set(by_column[i]):
                    memo[v] = _sqlite_datetime(v)
                by_column[i] = [memo[v] for v in by_column[i]]
            params = list(zip(*by_column, strict=True))
    if conn.dialect.name == "postgresql" and len(params) >= COPY_FROM_ROWS:
        _copy(conn, table, columns, params)
        return
    conn.exec_driver_sql(sql, params)


# A few rows (one fact, a report's batch) go faster as one statement than as a COPY's round trips.
COPY_FROM_ROWS = 100


def _copy(conn: Connection, table: Table, columns: list[str], params: Sequence[Any]) -> None:
    """PostgreSQL's COPY, in the caller's transaction: psycopg's executemany of the same rows
    cost 1.6 CPU s for a national import's 130,000 shelter and fact rows; COPY a fraction."""
    raw = conn.connection.dbapi_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(  # type: ignore[attr-defined]
            f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in params:
            copy.write_row(row)


Writes = Sequence[tuple[Any, list[dict[str, Any]]]]


def write_all(conn: Connection, writes: Writes, *,
              committing: Callable[[], None] | None = None) -> bool:
    """Every row of a batch's statements, in order, in the caller's transaction, past
    SQLAlchemy's per-execute machinery (an execution context, every parameter processed by
    name: about a tenth of the report writer's thread on a batch).

    PostgreSQL: every row in one pipelined round trip (`pipelined`). SQLite: each statement's
    rows in one executemany of the driver, with the columns' own bind processors (a time becomes
    the text SQLAlchemy would store). Each statement is compiled once per process; a column left
    to a constant Python-side default gets it, and a statement whose defaults must be computed
    goes through SQLAlchemy as before. Errors are raised as SQLAlchemy raises them (a duplicate
    key is an IntegrityError).

    With `committing`, the rows carry the transaction's COMMIT where that saves a round trip
    (PostgreSQL: at the end of their pipeline), and `committing` is called just before it is
    sent, when the transaction's fate stops being certain. Returns whether the transaction was
    committed so; if not, the caller commits as usual (its commit is a no-op either way).
    """
    if conn.dialect.name == "postgresql":
        return pipelined(conn, writes, committing=committing)
    raw: Any = conn.connection.driver_connection
    for statement, rows in writes:
        plan = _plan(conn, statement, rows[0]) if rows else None
        if plan is None:
            if rows:
                conn.execute(statement, rows)
            continue
        params = plan.params(rows)
        try:
            raw.executemany(plan.sql, params)
        except conn.dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(plan.sql, params, exc,
                                      conn.dialect.loaded_dbapi.Error) from exc
    return False


def pipelined(conn: Connection, writes: Writes, *,
              committing: Callable[[], None] | None = None) -> bool:
    """PostgreSQL: every row of the batch in one round trip, not one per statement.

    psycopg's pipeline sends each statement without waiting for the one before to be answered;
    the server still runs them in order, in this transaction, and the first error stops the rest
    and is raised here, as SQLAlchemy would have raised it (so a duplicate key is still an
    IntegrityError to the writer). A statement whose defaults must be computed by SQLAlchemy
    runs through it, in its place, between two pipelines.

    With `committing` (see `write_all`), the last pipeline ends with COMMIT, sent as a
    statement so that the pipeline's one Sync collects it with the rest: psycopg's own
    `commit()` inside a pipeline syncs once more, a second round trip. Should a row fail, the
    server skips the rest up to the Sync, the COMMIT with it, and the error is raised here with
    the transaction to be rolled back; once it has run, psycopg sees the connection idle and the
    caller's commit sends nothing.
    """
    raw: Any = conn.connection.driver_connection
    sent: list[tuple[str, list[dict[str, Any]]]] = []
    for statement, rows in writes:
        if not rows:
            continue
        plan = _plan(conn, statement, rows[0])
        if plan is None:
            _send(conn, raw, sent)
            sent = []
            conn.execute(statement, rows)
        else:
            sent.append((plan.sql, plan.filled(rows)))
    return _send(conn, raw, sent, committing)


def _send(conn: Connection, raw: Any, sent: list[tuple[str, list[dict[str, Any]]]],
          committing: Callable[[], None] | None = None) -> bool:
    if not sent:
        return False
    sql, params = sent[0]
    try:
        with raw.pipeline(), raw.cursor() as cursor:
            for sql, params in sent:
                cursor.executemany(sql, params)
            if committing is not None:
                committing()
                sql, params = "COMMIT", []
                cursor.execute(sql)
    except conn.dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(sql, params, exc, conn.dialect.loaded_dbapi.Error) from exc
    return committing is not None


@dataclass(frozen=True, slots=True)
class _Plan:
    """A statement compiled for the driver: its SQL, its markers' names in order (SQLite's
    positional style), each marker's bind processor (SQLite), and the values a row leaves out:
    those the statement binds itself and the columns' constant Python-side defaults."""

    sql: str
    names: tuple[str, ...]
    processors: tuple[Any, ...]
    defaults: dict[str, Any]

    def filled(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**self.defaults, **row} for row in rows] if self.defaults else rows

    def params(self, rows: list[dict[str, Any]]) -> list[Any]:
        """The rows as positional tuples, processed: picked at C speed, then column by column,
        each distinct value processed once (a batch mostly shares one `now`)."""
        if not self.names:
            return [()] * len(rows)
        pick = itemgetter(*self.names)
        params = [pick(row) for row in self.filled(rows)]
        if len(self.names) == 1:
            params = [(value,) for value in params]
        if not self.processors:
            return params
        columns: list[Any] = list(zip(*params, strict=True))
        for i, process in enumerate(self.processors):
            if process is not None:
                try:
                    memo = {value: process(value) for value in set(columns[i])}
                    columns[i] = [memo[value] for value in columns[i]]
                except TypeError:  # an unhashable value
                    columns[i] = [process(value) for value in columns[i]]
        return list(zip(*columns, strict=True))


_PLANS: dict[tuple[int, str, str], _Plan | None] = {}


def _plan(conn: Connection, statement: Any, row: Mapping[str, Any]) -> _Plan | None:
    """How to send `statement` with rows keyed like `row`; None when only SQLAlchemy's
    execution can (a default computed per row, a value missing)."""
    key = (id(statement), conn.dialect.name, ",".join(row))
    if key in _PLANS:
        return _PLANS[key]
    compiled: Any = statement.compile(dialect=conn.dialect, column_keys=list(row))
    defaults: dict[str, Any] | None = {}
    for column in compiled.insert_prefetch:
        defaults = _constant(column.default, column.key, defaults)
    for column in compiled.update_prefetch:
        defaults = _constant(column.onupdate, column.key, defaults)
    plan = None
    if defaults is not None:
        for name, bind in compiled.binds.items():
            if name not in row and name not in defaults:
                defaults = None if bind.required or bind.callable else \
                    {**defaults, name: bind.value}
                if defaults is None:
                    break
    if defaults is not None:
        names = tuple(compiled.positiontup or ())
        # The dialect's own processor for each type, as SQLAlchemy's execution looks it up: the
        # generic type's would hand SQLite the datetime, which it stores in another text form.
        processors = tuple(compiled.binds[n].type._cached_bind_processor(conn.dialect)
                           for n in names)
        plan = _Plan(str(compiled), names, processors if any(processors) else (), defaults)
    _PLANS[key] = plan
    return plan


def _constant(default: Any, name: str,
              defaults: dict[str, Any] | None) -> dict[str, Any] | None:
    if defaults is None or default is None or not default.is_scalar:
        return None
    return {**defaults, name: default.arg}
