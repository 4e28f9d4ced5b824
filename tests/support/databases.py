"""Test databases: a migrated template made once per run, copied for every test.

SQLite templates are copied as files; PostgreSQL ones with CREATE DATABASE … TEMPLATE, so each test
starts from the same state in milliseconds and no test sees another's rows.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from shelterwatch import db, migrate
from shelterwatch.areas import service as areas
from shelterwatch.clock import utcnow

_counter = itertools.count()


def postgres_admin_url() -> str | None:
    """The PostgreSQL lane is on when SHELTERWATCH_PG or a postgres DATABASE_URL says so."""
    pg = os.environ.get("SHELTERWATCH_PG", "")
    if pg and pg not in ("0", "false", "no"):
        return pg if "://" in pg else "postgresql://postgres@127.0.0.1:5432/postgres"
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgresql"):
        return url
    return None


def _pg(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def _admin_execute(admin_url: str, sql: str) -> None:
    engine = create_engine(_pg(admin_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


def prepare(url: str, fill: Callable[[str], None] | None = None) -> None:
    migrate.upgrade(url)
    with db.transaction(url) as session:
        areas.load_bundled(session, now=utcnow())
    if fill is not None:
        fill(url)
    db.dispose(url)


class Templates:
    """Makes templates lazily and hands out fresh copies."""

    def __init__(self, workdir: Path, admin: str | None | bool = True) -> None:
        """`admin`: a PostgreSQL admin URL, None for SQLite, True to follow the environment."""
        self.workdir = workdir
        self.admin = postgres_admin_url() if admin is True else admin or None
        self.tag = f"sw{os.getpid()}_{next(_counter)}"
        self.made: dict[str, str] = {}
        self.copies: list[str] = []

    @property
    def backend(self) -> str:
        return "postgresql" if self.admin else "sqlite"

    def template(self, name: str, fill: Callable[[str], None] | None = None) -> str:
        if name not in self.made:
            if self.admin:
                dbname = f"{self.tag}_tpl_{name}"
                _admin_execute(self.admin, f"DROP DATABASE IF EXISTS {dbname}")
                _admin_execute(self.admin, f"CREATE DATABASE {dbname}")
                url = make_url(_pg(self.admin)).set(database=dbname).render_as_string(False)
            else:
                url = f"sqlite:///{self.workdir / f'template-{name}.sqlite3'}"
            prepare(url, fill)
            if not self.admin:
                # Fold the WAL into the main file so a plain file copy is complete.
                engine = create_engine(url)
                with engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                engine.dispose()
            self.made[name] = url
        return self.made[name]

    def copy(self, name: str, fill: Callable[[str], None] | None = None) -> str:
        source = self.template(name, fill)
        n = next(_counter)
        if self.admin:
            src_db = make_url(source).database
            dbname = f"{self.tag}_t{n}"
            _admin_execute(self.admin, f"CREATE DATABASE {dbname} TEMPLATE {src_db}")
            url = make_url(source).set(database=dbname).render_as_string(False)
        else:
            target = self.workdir / f"test-{n}.sqlite3"
            shutil.copyfile(make_url(source).database or "", target)
            url = f"sqlite:///{target}"
        self.copies.append(url)
        return url

    def drop(self, url: str) -> None:
        db.dispose(url)
        if self.admin:
            dbname = make_url(url).database
            _admin_execute(self.admin, f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
        else:
            for suffix in ("", "-wal", "-shm"):
                Path((make_url(url).database or "") + suffix).unlink(missing_ok=True)

    def close(self) -> None:
        for url in self.made.values():
            self.drop(url)
