"""A batch's limits read only its own keys' rows, whatever the crowd left behind."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, insert
from sqlalchemy.orm import Session

from shelterwatch.budgets import rule as rules
from shelterwatch.budgets import service as budgets
from shelterwatch.budgets.models import RateCell, SourceMark
from shelterwatch.clock import utcnow


def _crowd(session: Session, n: int) -> None:
    now = utcnow()
    session.execute(insert(RateCell), [{"scope": "device", "key": f"d{i}", "tat": 0.0}
                                       for i in range(n)])
    session.execute(insert(SourceMark), [{"scope": "spread", "key": f"d{i}", "item": "1",
                                          "at": now} for i in range(n)])
    session.commit()


def _asks(keys: list[str], item: str) -> list[list[rules.Check]]:
    return [[rules.Rate("device", k, 2, 3600.0), rules.Spread("spread", k, item, 1, 3600.0)]
            for k in keys]


def test_batch_limits_count_each_key_among_many(session: Session) -> None:
    _crowd(session, 500)
    now = utcnow()
    # d1 and d2 touched shelter 1 already: shelter 2 is one too many for them, not for d9000.
    first = budgets.judge(session, _asks(["d1", "d2", "d9000"], "2"), now=now)
    assert [r is None for r in first] == [False, False, True]
    # Shelter 1 stays open to the keys that touched it; the new key used its one shelter.
    again = budgets.judge(session, _asks(["d1", "d9000"], "1"), now=now + timedelta(seconds=1))
    assert [r is None for r in again] == [True, False]


def test_the_read_searches_the_keys_instead_of_scanning_every_cell(session: Session) -> None:
    _crowd(session, 200)
    conn = session.connection()
    seen: list[tuple[str, object]] = []

    def capture(_c: object, _cur: object, statement: str, params: object, *_: object) -> None:
        if "rate_cells" in statement and statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, params))

    event.listen(conn, "before_cursor_execute", capture)
    budgets.judge(session, _asks(["d1", "d2", "d3"], "1"), now=utcnow())
    event.remove(conn, "before_cursor_execute", capture)
    assert seen
    statement, params = seen[-1]
    explain = "EXPLAIN QUERY PLAN " if conn.dialect.name == "sqlite" else "EXPLAIN "
    plan = " ".join(str(r) for r in conn.exec_driver_sql(explain + statement, params))  # type: ignore[arg-type]
    if conn.dialect.name == "sqlite":
        assert "SCAN rate_cells" not in plan and "SCAN source_marks" not in plan, plan
