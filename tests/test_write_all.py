"""`bulk.write_all`, the report batch's writes past SQLAlchemy's execution: the rows it stores
read back as SQLAlchemy's own writes do, and its failures are SQLAlchemy's."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import IntegrityError

from shelterwatch import bulk, db
from shelterwatch.observations.models import IdempotencyKey, Observation

KEYS = db.table_of(IdempotencyKey)


def _key(key: str, at: datetime) -> dict[str, object]:
    return {"scope": "test", "key": key, "request_hash": "h" * 64, "status_code": 201,
            "response": '{"ok":true}', "created_at": at}


def _stored(url: str) -> list[dict[str, object]]:
    """Each row as SQLAlchemy reads it, and the time as the database holds it."""
    with db.reading(url) as session:
        rows = session.execute(select(KEYS).where(KEYS.c.scope == "test")
                               .order_by(KEYS.c.key)).all()
        raw = session.execute(text("SELECT key, CAST(created_at AS TEXT) FROM idempotency_keys"
                                   " WHERE scope = 'test' ORDER BY key")).all()
    return [{**r._asdict(), "stored": stamp} for r, (_, stamp) in zip(rows, raw, strict=True)]


def test_rows_read_back_exactly_as_sqlalchemy_writes_them(db_url: str) -> None:
    """The same times, the same stored text, the same update."""
    at = datetime(2023, 5, 31, 23, 41, 7, 123456, tzinfo=UTC)
    moved = update(KEYS).where(KEYS.c.scope == "test", KEYS.c.key == "a1") \
        .values(status_code=429)
    with db.transaction(db_url) as session:
        session.connection().execute(insert(KEYS), [_key("a1", at), _key("a2", at)])
        session.connection().execute(moved)
    by_sqlalchemy = _stored(db_url)
    with db.transaction(db_url) as session:
        session.execute(text("DELETE FROM idempotency_keys WHERE scope = 'test'"))
    with db.transaction(db_url) as session:
        bulk.write_all(session.connection(), [(insert(KEYS), [_key("a1", at), _key("a2", at)]),
                                            (moved, [{}])])
    assert _stored(db_url) == by_sqlalchemy
    assert [r["status_code"] for r in by_sqlalchemy] == [429, 201]
    stamp = by_sqlalchemy[0]["created_at"]
    assert isinstance(stamp, datetime) and stamp.replace(tzinfo=UTC) == at


def test_a_duplicate_key_is_sqlalchemys_integrity_error_and_nothing_of_the_batch_stays(
        db_url: str) -> None:
    at = datetime.now(UTC)
    with db.transaction(db_url) as session:
        bulk.write_all(session.connection(), [(insert(KEYS), [_key("b1", at)])])
    with pytest.raises(IntegrityError), db.transaction(db_url) as session:
        bulk.write_all(session.connection(), [(insert(KEYS), [_key("b2", at)]),
                                            (insert(KEYS), [_key("b1", at)])])
    assert [r["key"] for r in _stored(db_url)] == ["b1"]


def test_a_column_left_to_its_python_default_gets_it(db_url: str) -> None:
    """`reporter`, `source` and `reason` default to "" in Python, not in the database."""
    row = {"id": "KV-TEST-01", "shelter_id": 1, "kind": "locked", "role": "resident",
           "distance_m": None, "at": datetime.now(UTC), "alert_id": None, "incident_id": None,
           "routed_to": None, "seq": 1}
    with db.transaction(db_url) as session:
        bulk.write_all(session.connection(), [(insert(db.table_of(Observation)), [row])])
    with db.reading(db_url) as session:
        stored = session.execute(select(Observation.reporter, Observation.source,
                                        Observation.reason)).one()
    assert tuple(stored) == ("", "", "")


def test_rows_that_carry_the_commit_are_stored_before_the_callers_commit(db_url: str) -> None:
    """PostgreSQL: the COMMIT goes in the rows' round trip, after the caller was told; on
    SQLite nothing changes and the caller commits."""
    at = datetime.now(UTC)
    told: list[str] = []
    with db.transaction(db_url) as session:
        committed = bulk.write_all(session.connection(), [(insert(KEYS), [_key("c1", at)])],
                                   committing=lambda: told.append("now"))
        postgres = session.get_bind().dialect.name == "postgresql"
        assert committed is postgres and told == (["now"] if postgres else [])
        if postgres:  # another connection already sees the row
            assert [r["key"] for r in _stored(db_url)] == ["c1"]
    assert [r["key"] for r in _stored(db_url)] == ["c1"]


def test_a_failing_row_stops_the_carried_commit_and_nothing_stays(db_url: str) -> None:
    at = datetime.now(UTC)
    with db.transaction(db_url) as session:
        bulk.write_all(session.connection(), [(insert(KEYS), [_key("d1", at)])])
    with pytest.raises(IntegrityError), db.transaction(db_url) as session:
        bulk.write_all(session.connection(), [(insert(KEYS), [_key("d2", at)]),
                                            (insert(KEYS), [_key("d1", at)])],
                       committing=lambda: None)
    assert [r["key"] for r in _stored(db_url)] == ["d1"]
