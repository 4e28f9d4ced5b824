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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, Table, create_engine, event, text
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
