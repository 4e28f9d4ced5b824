"""The limits judged as a batch answer as they would one report at a time: a property, no database.

The stored state is modelled as the tables hold it (a cell's arrival time; a mark per key and item
with when it was last touched) and read back as the service reads it, so "one at a time" here is
one read, judgement and write per report, as the limits were before batches.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shelterwatch.budgets import rule as budget

HOUR = 3600.0
Stored = tuple[dict[budget.Cell, float], dict[tuple[str, str, str], float]]


def _read(stored: Stored, asks: list[list[budget.Check]], t: float) -> budget.Ledger:
    tats, marks = stored
    ledger = budget.Ledger()
    for ask in asks:
        for c in ask:
            cell = (c.scope, c.key)
            if isinstance(c, budget.Rate):
                if cell in tats:
                    ledger.tats[cell] = tats[cell]
                continue
            since = t - c.window_s
            ledger.counts[cell] = sum(1 for (s, k, _), at in marks.items()
                                      if (s, k) == cell and at >= since)
            if marks.get((c.scope, c.key, c.item), float("-inf")) >= since:
                ledger.touched.add((c.scope, c.key, c.item))
    return ledger


def _write(stored: Stored, ledger: budget.Ledger, t: float) -> None:
    tats, marks = stored
    for cell in ledger.moved_tats:
        tats[cell] = ledger.tats[cell]
    for mark in ledger.moved_marks:
        marks[mark] = t


def _ask(network: int, device: int | None, shelter: int, limit: int) -> list[budget.Check]:
    checks: list[budget.Check] = [budget.Rate("address", f"n{network}", limit, 60.0)]
    if device is not None:
        checks.append(budget.Rate("device", f"d{device}", limit, HOUR))
    checks.append(budget.Spread("spread", f"n{network}", str(shelter), limit, HOUR))
    return checks


asks = st.lists(st.builds(_ask, st.integers(0, 2), st.none() | st.integers(0, 2),
                          st.integers(0, 6), st.integers(1, 4)), min_size=1, max_size=20)
times = st.lists(st.floats(0, 2 * HOUR), min_size=1, max_size=4).map(sorted)


@given(asks, times)
def test_a_batch_answers_and_stores_what_one_at_a_time_would(batch: list[list[budget.Check]],
                                                             moments: list[float]) -> None:
    together: Stored = ({}, {})
    alone: Stored = ({}, {})
    for t in moments:  # several batches, hours apart or not, over the same stored state
        ledger = _read(together, batch, t)
        as_batch = budget.judge(ledger, batch, t)
        _write(together, ledger, t)
        one_by_one = []
        for ask in batch:
            ledger = _read(alone, [ask], t)
            one_by_one += budget.judge(ledger, [ask], t)
            _write(alone, ledger, t)
        assert as_batch == one_by_one
        assert together == alone


@given(st.integers(1, 5), st.lists(st.integers(0, 9), min_size=1, max_size=30))
def test_a_source_reaches_at_most_its_limit_of_shelters_and_always_its_own(
        limit: int, shelters: list[int]) -> None:
    ledger = budget.Ledger()
    checks = [[budget.Spread("spread", "n1", str(s), limit, HOUR)] for s in shelters]
    answers = budget.judge(ledger, checks, 100.0)
    allowed = [s for s, a in zip(shelters, answers, strict=True) if a is None]
    assert len(set(allowed)) <= limit
    first = list(dict.fromkeys(shelters))[:limit]
    assert set(allowed) == set(first)  # the first `limit` shelters, every time they come back
    assert all(a.limit == limit for a in answers if a is not None)


@given(st.integers(1, 30))
def test_a_rate_lets_its_burst_through_then_says_when_the_next_unit_comes(limit: int) -> None:
    ledger = budget.Ledger()
    answers = budget.judge(ledger, [[budget.Rate("device", "d", limit, HOUR)]] * (limit + 1), 0.0)
    assert answers[:limit] == [None] * limit
    refused = answers[limit]
    assert refused is not None and refused.index == 0
    assert abs(refused.wait_s - HOUR / limit) < 1e-6
    later = budget.judge(ledger, [[budget.Rate("device", "d", limit, HOUR)]], HOUR / limit)
    assert later == [None]


def test_a_refused_check_stops_its_ask_but_the_checks_before_it_still_count() -> None:
    ledger = budget.Ledger()
    ask = [budget.Rate("address", "n", 10, 60.0), budget.Spread("spread", "n", "1", 0, HOUR)]
    refused = budget.judge(ledger, [ask], 0.0)[0]
    assert refused is not None and refused.index == 1
    assert ledger.moved_tats == {("address", "n")}
    assert not ledger.moved_marks
