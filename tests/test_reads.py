"""`reads.Reads`, the report writer's opening reads in one round trip: what they read is what
SQLAlchemy reads with the same statements, in the order asked, and a failure among them is
SQLAlchemy's error, leaving nothing behind.

Runs on the database lane of the run: SQLite by default, PostgreSQL with SHELTERWATCH_PG=1 (where
the reads go past SQLAlchemy, in one psycopg pipeline).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import IntegrityError

from shelterwatch import db
from shelterwatch.budgets import service as budgets
from shelterwatch.budgets.models import RateCell, SourceMark
from shelterwatch.intake.sql import HEAD
from shelterwatch.observations.models import IdempotencyKey
from shelterwatch.reads import Reads
from shelterwatch.reports.writer import STORED

KEYS, CELLS, MARKS = (db.table_of(m) for m in (IdempotencyKey, RateCell, SourceMark))
AT = datetime(2023, 6, 1, 0, 41, 7, 123456, tzinfo=UTC)


def _key(key: str) -> dict[str, object]:
    return {"scope": "reports", "key": key, "request_hash": "h" * 64, "status_code": 201,
            "response": '{"tracking_id": "KV-7F3K-2Q"}', "created_at": AT}


def _fill(url: str) -> None:
    with db.transaction(url) as session:
        conn = session.connection()
        conn.execute(insert(KEYS), [_key("k1"), _key("k2"), _key("k3")])
        conn.execute(insert(CELLS), [{"scope": "report-device", "key": "d1", "tat": 1.5e9},
                                     {"scope": "report-device", "key": "d2", "tat": 1.6e9}])
        conn.execute(insert(MARKS), [
            {"scope": "report-spread", "key": "s1", "item": str(n), "at": AT} for n in (4, 5)])


def _asked(name: str, rows: list[tuple[str, ...]], columns: tuple[str, ...]) -> dict[str, object]:
    return budgets._columns_of(name, rows, columns)


def test_the_writers_reads_give_what_sqlalchemy_gives(db_url: str) -> None:
    _fill(db_url)
    known = {**_asked("cells", [("report-device", "d1"), ("report-device", "d9")],
                      ("scope", "key")),
             **_asked("spreads", [("report-spread", "s1")], ("scope", "key")),
             **_asked("marks", [("report-spread", "s1", "5"), ("report-spread", "s1", "6")],
                      ("scope", "key", "item")),
             "since": AT - timedelta(hours=1)}
    asked = [(STORED, {"keys": ["k1", "k3", "k4"]}), (budgets._KNOWN, known),
             (HEAD, {"ids": ["KV-0000-00"]}),
             (select(func.count()).select_from(KEYS).where(KEYS.c.created_at == AT), {})]
    with db.transaction(db_url) as session:
        conn = session.connection()
        by_sqlalchemy = [sorted(tuple(r) for r in conn.execute(s, p)) for s, p in asked]
    with db.transaction(db_url) as session:
        reads = Reads()
        found = [reads.ask(s, p) for s, p in asked]
        reads.send(session.connection())
    assert [sorted(tuple(r) for r in f.rows) for f in found] == by_sqlalchemy
    stored, limits, head, count = by_sqlalchemy
    assert [r[0] for r in stored] == ["k1", "k3"]
    assert sorted((r[0], r[2], r[3]) for r in limits) == [
        ("count", "s1", ""), ("mark", "s1", "5"), ("tat", "d1", "")]
    assert len(head) == 1 and count == [(3,)]
    assert found[0].rows[0].response == '{"tracking_id": "KV-7F3K-2Q"}'  # by column name


def test_a_failing_statement_is_sqlalchemys_error_and_leaves_nothing(db_url: str) -> None:
    _fill(db_url)
    with pytest.raises(IntegrityError), db.transaction(db_url) as session:
        reads = Reads()
        reads.ask(insert(KEYS), _key("k9"))
        reads.ask(insert(KEYS), _key("k1"))  # already stored
        reads.send(session.connection())
    with db.reading(db_url) as session:
        keys = session.execute(text("SELECT key FROM idempotency_keys ORDER BY key")).scalars()
        assert list(keys) == ["k1", "k2", "k3"]
