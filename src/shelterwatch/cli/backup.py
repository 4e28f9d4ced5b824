"""`shelterwatch backup DEST` and `shelterwatch restore SRC`: a copy to keep, and a way back.

A backup is one SQLite file with the current schema, whatever the live database is: the same
schema serves both engines (DESIGN §6), so a city can keep its copies as plain files, open one
with `sqlite3`, and restore it onto SQLite or PostgreSQL alike.

- From SQLite it is SQLite's online backup API: a page-for-page copy of one consistent moment,
  taken while the server keeps writing.
- From PostgreSQL every table is read inside one `REPEATABLE READ READ ONLY` transaction, so all
  tables come from the same snapshot (a report's fact and its observation, or neither).

A restore builds a fresh database from it: the primary records (registry, people, tokens,
alerts, the fact log itself) are copied, and everything derived from the log (observations,
statuses, incidents, tasks, timers, readiness) is recomputed from the facts by `rebuild`, as
DESIGN §3.3 promises; then the chain and the tree are verified and the rebuilt statuses are
compared with the ones the backup holds. Any difference fails the restore, loudly.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import Connection, Table, delete, func, insert, select, text
from sqlalchemy.engine import make_url

from shelterwatch import db, migrate
from shelterwatch.cli.common import console, fail, one_line_errors
from shelterwatch.config import get_settings

CHUNK = 5000


def _tables() -> list[Table]:
    """Every table of the schema, parents before children (the models register them)."""
    import shelterwatch.app  # noqa: F401  (imports every domain's models)

    return list(db.Base.metadata.sorted_tables)


def _sqlite_path(url: str) -> Path:
    path = make_url(url).database
    if not path or path == ":memory:":
        raise ValueError(f"{url} is not a SQLite file")
    return Path(path)


def _aware(row: Any) -> tuple[Any, ...]:
    # SQLite hands datetimes back naive (they are stored in UTC); PostgreSQL must be told.
    return tuple(v.replace(tzinfo=UTC) if isinstance(v, datetime) and v.tzinfo is None else v
                 for v in row)


def _rows(conn: Connection, table: Table) -> Iterator[list[dict[str, Any]]]:
    result = conn.execution_options(stream_results=True, yield_per=CHUNK).execute(
        select(table).order_by(*table.primary_key.columns))
    names = [c.name for c in table.columns]
    for chunk in result.partitions(CHUNK):
        yield [dict(zip(names, _aware(row), strict=True)) for row in chunk]


def copy_tables(source: Connection, target: Connection) -> dict[str, int]:
    """Replace every table's rows in `target` with `source`'s; returns rows copied per table."""
    tables = _tables()
    for table in reversed(tables):  # what migrations seeded (the log head) goes first
        target.execute(delete(table))
    counts: dict[str, int] = {}
    for table in tables:
        counts[table.name] = 0
        for rows in _rows(source, table):
            target.execute(insert(table), rows)
            counts[table.name] += len(rows)
    if target.dialect.name == "postgresql":
        _move_sequences(target, tables)
    return counts


def _move_sequences(conn: Connection, tables: list[Table]) -> None:
    """Rows came with their ids: each serial's next value must lie past them."""
    for table in tables:
        key = list(table.primary_key.columns)
        if len(key) != 1 or not key[0].autoincrement or key[0].type.python_type is not int:
            continue
        conn.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', '{key[0].name}'), "
            f"COALESCE(MAX({key[0].name}), 0) + 1, false) FROM {table.name}"))


def _schema_version(conn: Connection) -> set[str]:
    return set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())


def _heads() -> set[str]:
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(migrate.alembic_config("")).get_heads())


def backup_to(url: str, dest: Path) -> dict[str, int] | None:
    """Write a consistent SQLite copy of the database at `url` to `dest` (atomically)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        counts = None
        if db.is_sqlite(url):
            source = sqlite3.connect(_sqlite_path(url))
            copy = sqlite3.connect(tmp)
            try:
                source.backup(copy)  # all pages in one step: one consistent moment
            finally:
                copy.close()
                source.close()
        else:
            counts = _snapshot_of_postgres(url, tmp)
        os.replace(tmp, dest)
        return counts
    finally:
        tmp.unlink(missing_ok=True)


def _snapshot_of_postgres(url: str, tmp: Path) -> dict[str, int]:
    copy_url = f"sqlite:///{tmp}"
    with db.engine_for(url, write=False).connect() as source:
        if _schema_version(source) != _heads():
            raise ValueError("the database's schema is not this version's: run "
                             "`shelterwatch init` first")
    migrate.upgrade(copy_url)
    try:
        with db.engine_for(url, write=False).connect().execution_options(
                isolation_level="REPEATABLE READ") as source, source.begin(), \
                db.engine_for(copy_url).begin() as target:
            source.execute(text("SET TRANSACTION READ ONLY"))  # the snapshot: from here on
            counts = copy_tables(source, target)
    finally:
        db.dispose(copy_url)
    return counts


@dataclass(frozen=True)
class Restored:
    facts: int
    shelters: int
    statuses: int


def restore_from(src: Path, url: str) -> Restored:
    """Build the (empty) database at `url` from a backup file; raises on any difference."""
    from shelterwatch.audits.rebuild import rebuild as rebuild_readiness
    from shelterwatch.clock import utcnow
    from shelterwatch.escalation.rebuild import rebuild as rebuild_escalation
    from shelterwatch.incidents.rebuild import rebuild as rebuild_evidence
    from shelterwatch.log import service as log
    from shelterwatch.log import tree
    from shelterwatch.observations.models import ShelterStatus

    if not src.is_file():
        raise FileNotFoundError(2, "no such backup", str(src))
    migrate.upgrade(url)
    with db.reading(url) as session:
        if log.last_seq(session):
            raise ValueError("restore builds a fresh database, and this one already holds "
                             "facts: point DATABASE_URL at an empty one")
    with tempfile.TemporaryDirectory() as work:
        # A copy, brought to this version's schema: the backup itself is never written.
        copy = Path(work) / "backup.sqlite3"
        with sqlite3.connect(src) as source, sqlite3.connect(copy) as target:
            source.backup(target)
        copy_url = f"sqlite:///{copy}"
        migrate.upgrade(copy_url)
        status_cols = (ShelterStatus.shelter_id, ShelterStatus.status)
        try:
            with db.engine_for(copy_url, write=False).connect() as source:
                with db.engine_for(url).begin() as target:
                    copy_tables(source, target)
                recorded: set[tuple[Any, ...]] = {
                    tuple(r) for r in source.execute(select(*status_cols))}
        finally:
            db.dispose(copy_url)
    settings = get_settings()
    with db.transaction(url) as session:
        evidence = rebuild_evidence(session)
        rebuild_escalation(session, settings=settings, now=utcnow())
        rebuild_readiness(session)
    with db.reading(url) as session:
        verdict = log.verify(session)
        problems = tree.verify(session)
        rebuilt: set[tuple[Any, ...]] = {
            tuple(r) for r in session.execute(select(*status_cols))}
        shelters = session.execute(text("SELECT COUNT(*) FROM shelters")).scalar_one()
        facts = session.execute(select(func.count()).select_from(
            db.Base.metadata.tables["facts"])).scalar_one()
    if not verdict.ok:
        raise ValueError(f"the restored log is broken at seq {verdict.broken_seq}: "
                         f"{verdict.reason}")
    if problems:
        raise ValueError(f"the restored log's tree: {problems[0]}")
    if evidence.mismatches or rebuilt != recorded:
        differ = sorted({row[0] for row in rebuilt ^ recorded})
        raise ValueError(f"statuses rebuilt from the log differ from the backup's for "
                         f"{len(differ)} shelters (first: {differ[:5]})")
    return Restored(facts=facts, shelters=shelters, statuses=len(rebuilt))


@one_line_errors
def backup(dest: Annotated[Path, typer.Argument(help="the backup file to write (SQLite)")],
           ) -> None:
    """Write a consistent copy of the database to one SQLite file, while it keeps serving."""
    url = get_settings().database_url
    if db.is_sqlite(url) and not _sqlite_path(url).is_file():
        raise fail(f"no database at {_sqlite_path(url)} (check DATABASE_URL)")
    counts = backup_to(url, dest)
    size = dest.stat().st_size
    how = ("SQLite online backup" if counts is None
           else f"one REPEATABLE READ snapshot, {sum(counts.values()):,} rows")
    console.print(f"backup written to {dest} ({size:,} bytes; {how})", highlight=False)


@one_line_errors
def restore(src: Annotated[Path, typer.Argument(help="a file `shelterwatch backup` wrote")],
            ) -> None:
    """Build an empty database from a backup: copy the records, rebuild what the log derives,
    verify the log and compare the statuses with the backup's."""
    done = restore_from(src, get_settings().database_url)
    console.print(f"restored {done.facts:,} facts and {done.shelters:,} shelters; the log "
                  f"verifies and {done.statuses:,} statuses rebuilt from it equal the backup's")
