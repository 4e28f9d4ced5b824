"""`listed.among` / `rows_among`: a list bound as one value finds the same rows as an expanding
IN, and its SQL stays the same whatever the list's length (the point of it)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event, insert, select, tuple_

from shelterwatch import db
from shelterwatch.listed import among, rows_among
from shelterwatch.observations.models import IdempotencyKey

KEYS = db.table_of(IdempotencyKey)
AT = datetime(2023, 6, 1, 0, 0, tzinfo=UTC)


def _store(url: str) -> None:
    rows = [{"scope": scope, "key": f"k{i}", "request_hash": "h" * 64, "status_code": 200 + i,
             "response": "{}", "created_at": AT}
            for scope in ("report", "checkin") for i in range(5)]
    with db.transaction(url) as session:
        session.connection().execute(insert(KEYS), rows)


def test_among_finds_exactly_the_listed_values(db_url: str) -> None:
    _store(db_url)
    by_code = select(KEYS.c.scope, KEYS.c.key).where(among(KEYS.c.status_code, "codes")) \
        .order_by(KEYS.c.scope, KEYS.c.key)
    with db.reading(db_url) as session:
        found = session.execute(by_code, {"codes": [201, 203, 999]}).all()
        none = session.execute(by_code, {"codes": []}).all()
        expected = session.execute(select(KEYS.c.scope, KEYS.c.key)
                                   .where(KEYS.c.status_code.in_([201, 203, 999]))
                                   .order_by(KEYS.c.scope, KEYS.c.key)).all()
    assert found == expected == [("checkin", "k1"), ("checkin", "k3"),
                                 ("report", "k1"), ("report", "k3")]
    assert none == []


def test_rows_among_matches_whole_rows_not_each_column(db_url: str) -> None:
    """("report", "k1") and ("checkin", "k2") must not also match ("report", "k2")."""
    _store(db_url)
    pairs = select(KEYS.c.scope, KEYS.c.key) \
        .where(rows_among([KEYS.c.scope, KEYS.c.key], "pairs")).order_by(KEYS.c.scope)
    wanted = [("report", "k1"), ("checkin", "k2"), ("report", "missing")]
    with db.reading(db_url) as session:
        found = session.execute(pairs, {"pairs": wanted}).all()
        expected = session.execute(select(KEYS.c.scope, KEYS.c.key)
                                   .where(tuple_(KEYS.c.scope, KEYS.c.key).in_(wanted))
                                   .order_by(KEYS.c.scope)).all()
    assert found == expected == [("checkin", "k2"), ("report", "k1")]


def test_sql_is_the_same_for_lists_of_any_length(db_url: str) -> None:
    """Compiled once and cached: the text sent to the database does not depend on the list,
    where an expanding IN sends one placeholder per value."""
    _store(db_url)
    sent: list[str] = []

    def record(conn: object, cursor: object, statement: str, *rest: object) -> None:
        sent.append(statement)

    stored = {f"k{i}" for i in range(5)}
    with db.reading(db_url) as session:
        conn = session.connection()
        event.listen(conn, "before_cursor_execute", record)
        for keys in (["k1"], ["k1", "k2", "k3"], [f"k{i}" for i in range(40)]):
            found = conn.execute(select(KEYS.c.key).where(among(KEYS.c.key, "keys")),
                                 {"keys": keys})
            assert {r.key for r in found} == stored & set(keys)
        listed, sent[:] = list(sent), []
        for keys in (["k1"], ["k1", "k2", "k3"]):
            conn.execute(select(KEYS.c.key).where(KEYS.c.key.in_(keys)))
    assert len(listed) == 3 and len(set(listed)) == 1
    assert len(set(sent)) == 2  # the baseline does differ, so the check above can fail


def test_postgresql_gets_the_list_as_an_array_not_text_to_cast_per_row(db_url: str) -> None:
    """Bound as text and cast to an array, PostgreSQL re-ran the cast for every row a scan
    filtered: 16 keys looked up among a few thousand rows took 7 ms instead of 0.1. The list
    must arrive as an array the filter compares against as it is."""
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite reads the JSON list once, in its own json_each")
    _store(db_url)
    with db.reading(db_url) as session:
        conn = session.connection()
        conn.exec_driver_sql("SET LOCAL enable_indexscan = off")
        conn.exec_driver_sql("SET LOCAL enable_bitmapscan = off")  # the scan that filters
        plans = []
        for condition, values in ((among(KEYS.c.key, "keys"), ["k1", "k2"]),
                                  (among(KEYS.c.status_code, "keys"), [201, 202])):
            query = select(KEYS.c.key).where(condition)
            compiled = query.compile(dialect=conn.dialect)
            plans.append("\n".join(r[0] for r in conn.exec_driver_sql(
                f"EXPLAIN (VERBOSE) {compiled}", compiled.construct_params({"keys": values}))))
            assert len(conn.execute(query, {"keys": values}).all()) == 4
    assert all("Seq Scan" in plan for plan in plans)
    assert all("cstring" not in plan for plan in plans), plans
    assert "'{k1,k2}'::text[]" in plans[0] and "'{201,202}'::integer[]" in plans[1], plans
