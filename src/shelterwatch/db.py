"""Engine, sessions and the declarative base shared by every table.

SQLite runs in WAL mode with synchronous=FULL so an acknowledged write survives power loss, and
every write transaction starts with BEGIN IMMEDIATE so writers queue instead of failing half-way on
a lock upgrade. PostgreSQL serialises appends to the fact log with a row lock on the log head.

A PostgreSQL URL may name several servers the way libpq does
(`postgresql://u@db1:5432,db2:5432/shelterwatch?target_session_attrs=read-write`): every
connection, the pool's and the log follower's, goes to whichever of them is the primary now, so a
node follows a promoted replica without a restart (deploy/POSTGRES-REPLICATION.md).
"""

from __future__ import annotations

import gc
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, MetaData, Table, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from shelterwatch.config_syntax import normalised_url

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _sqlite_datetime(value: datetime | None) -> str | None:
    # The text form SQLAlchemy's SQLite DateTime type stores and reads back.
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a bulk write builds its rows.

    An import holds every row it read while it makes hundreds of thousands of new tuples and
    dicts; each allocation burst set off a full collection that walked all of them again: 1.2
    of the 4.3 CPU seconds of a 65,000-shelter import. The rows hold no cycles (reference
    counting frees them), and a collection runs once the write is done.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def bulk_insert(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
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


def write_all(conn: Connection, writes: Writes) -> None:
    """Every row of a batch's statements, in order, in the caller's transaction, past
    SQLAlchemy's per-execute machinery (an execution context, every parameter processed by
    name: about a tenth of the report writer's thread on a batch).

    PostgreSQL: every row in one pipelined round trip (`pipelined`). SQLite: each statement's
    rows in one executemany of the driver, with the columns' own bind processors (a time becomes
    the text SQLAlchemy would store). Each statement is compiled once per process; a column left
    to a constant Python-side default gets it, and a statement whose defaults must be computed
    goes through SQLAlchemy as before. Errors are raised as SQLAlchemy raises them (a duplicate
    key is an IntegrityError).
    """
    if conn.dialect.name == "postgresql":
        pipelined(conn, writes)
        return
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


def pipelined(conn: Connection, writes: Writes) -> None:
    """PostgreSQL: every row of the batch in one round trip, not one per statement.

    psycopg's pipeline sends each statement without waiting for the one before to be answered;
    the server still runs them in order, in this transaction, and the first error stops the rest
    and is raised here, as SQLAlchemy would have raised it (so a duplicate key is still an
    IntegrityError to the writer). A statement whose defaults must be computed by SQLAlchemy
    runs through it, in its place, between two pipelines.
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
    _send(conn, raw, sent)


def _send(conn: Connection, raw: Any, sent: list[tuple[str, list[dict[str, Any]]]]) -> None:
    if not sent:
        return
    try:
        with raw.pipeline(), raw.cursor() as cursor:
            for sql, params in sent:
                cursor.executemany(sql, params)
    except conn.dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(sql, params, exc, conn.dialect.loaded_dbapi.Error) from exc


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


def table_of(model: type[Base]) -> Table:
    """A model's Table, for Core bulk statements (one executemany instead of an ORM loop)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def libpq_conninfo(url: str) -> str:
    """A libpq connection string for `url` (every host of a list, target_session_attrs kept),
    for the connections that live outside the pool (LISTEN)."""
    import psycopg.conninfo

    sa_url = make_url(normalised_url(url))
    listed = sa_url.query.get("host", ())
    listed = (listed,) if isinstance(listed, str) else tuple(listed)
    pairs = [h.rpartition(":")[::2] if ":" in h else (h, "") for h in listed] or \
        [(sa_url.host or "", str(sa_url.port or ""))]
    params: dict[str, str] = {k: v if isinstance(v, str) else v[-1]
                              for k, v in sa_url.query.items() if k != "host"}
    given = {"host": ",".join(h for h, _ in pairs), "port": ",".join(p for _, p in pairs),
             "dbname": sa_url.database, "user": sa_url.username, "password": sa_url.password}
    return psycopg.conninfo.make_conninfo(
        **{k: v for k, v in given.items() if v and v.strip(",")}, **params)


def is_disconnect(exc: BaseException) -> bool:
    """Whether a database error means the server is gone (crashed, failing over, read-only
    after a demotion) rather than that the statement was wrong: worth a retry elsewhere."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    import psycopg

    orig = exc.orig
    return isinstance(orig, psycopg.OperationalError | psycopg.errors.ReadOnlySqlTransaction
                      | psycopg.errors.AdminShutdown | psycopg.InterfaceError)


def is_sqlite(url: str) -> bool:
    return make_url(normalised_url(url)).get_backend_name() == "sqlite"


def _on_sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


BUSY_TIMEOUT_S = 30.0
BUSY_POLL_S = 0.002


def _begin_immediate(conn: Any) -> None:
    """Take the write lock, asking again every couple of milliseconds while another holds it.

    SQLite's own busy handler sleeps longer after every miss (up to 100 ms), so a waiter keeps
    missing a lock that a busy process holds in many short turns: a report waited seconds
    behind the worker's rounds that way. Polling at a steady, short interval gives every
    process its turn within a few milliseconds of the lock coming free."""
    raw = conn.connection.dbapi_connection
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    raw.execute("PRAGMA busy_timeout=0")
    try:
        while time.monotonic() < deadline:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc):
                    break
                time.sleep(BUSY_POLL_S)
    finally:
        raw.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    conn.exec_driver_sql("BEGIN IMMEDIATE")  # one last wait, failing as SQLAlchemy reports


def _begin_deferred(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")


def make_engine(url: str, *, write: bool = True, **kwargs: Any) -> Engine:
    """An engine configured for durability on either backend.

    On SQLite, writers take the write lock when they begin (so two writers queue rather than
    deadlock on a lock upgrade) and readers begin deferred (so reads never wait for writers).
    """
    if is_sqlite(url):
        path = make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               **kwargs)
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _begin_immediate if write else _begin_deferred)
        return engine
    url = normalised_url(url).replace("postgresql://", "postgresql+psycopg://", 1)
    # pre_ping: a pooled connection to a server that died (or was demoted) is replaced at
    # check-out, so the first request after a failover does not fail on a stale socket.
    # connect_timeout: a host of the list that does not answer is skipped within seconds.
    connect_args = {"connect_timeout": 3, **kwargs.pop("connect_args", {})}
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20,
                         connect_args=connect_args, **kwargs)


_engines: dict[tuple[str, bool], Engine] = {}
_factories: dict[tuple[str, bool], sessionmaker[Session]] = {}
_registry_lock = threading.Lock()


def engine_for(url: str, *, write: bool = True) -> Engine:
    """One engine (and pool) per database URL and purpose per process."""
    if not write and not is_sqlite(url):
        write = True
    key = (url, write)
    with _registry_lock:
        if key not in _engines:
            _engines[key] = make_engine(url, write=write)
        return _engines[key]


def session_factory(url: str, *, write: bool = True) -> sessionmaker[Session]:
    key = (url, write or not is_sqlite(url))
    factory = _factories.get(key)
    if factory is None:
        factory = sessionmaker(bind=engine_for(url, write=write), expire_on_commit=False)
        _factories[key] = factory
    return factory


def dispose(url: str) -> None:
    """Close every pooled connection to `url` (before dropping or copying that database)."""
    with _registry_lock:
        for key in [k for k in _engines if k[0] == url]:
            _engines.pop(key).dispose()
            _factories.pop(key, None)


@contextmanager
def reading(url: str) -> Iterator[Session]:
    """A read-only unit of work that never waits for writers."""
    session = session_factory(url, write=False)()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


@contextmanager
def snapshot(url: str) -> Iterator[Session]:
    """A read-only unit of work whose every statement sees one moment of the database.

    For reads that must agree with each other (the registry, the statuses and the log position
    they correspond to) on a server that keeps committing, a replica's replay included. On
    PostgreSQL that is `REPEATABLE READ` (allowed on a hot standby); SQLite's deferred read
    transaction in WAL mode already holds its first read's snapshot to the end.
    """
    with reading(url) as session:
        if not is_sqlite(url):
            session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
        yield session


_gates: dict[str, threading.RLock] = {}


def _gate(url: str) -> threading.RLock | None:
    """SQLite's one writer, as a lock the threads of this process queue on: without it each
    waiting thread polls the busy handler, sleeping longer each miss, and a burst of short
    transactions from one thread can keep another (a resident's report) waiting for seconds."""
    if not is_sqlite(url):
        return None
    with _registry_lock:
        return _gates.setdefault(url, threading.RLock())


@contextmanager
def transaction(url: str) -> Iterator[Session]:
    """A session whose work commits on normal exit and rolls back on any error."""
    gate = _gate(url)
    # Bounded: a thread that waits past SQLite's own timeout goes on to SQLite's lock and its
    # error, never hangs here.
    if gate is not None and not gate.acquire(timeout=BUSY_TIMEOUT_S):
        gate = None
    session = session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        if gate is not None:
            gate.release()
