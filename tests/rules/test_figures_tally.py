"""A district's figures are its areas' tallies summed: for that to rank districts truly, adding
tallies must give the figures of the pooled counts, in whatever order the areas are summed."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shelterwatch.rules import figures
from shelterwatch.rules.figures import FigureId, Tally

small = st.integers(min_value=0, max_value=50)
histogram = st.dictionaries(st.integers(min_value=0, max_value=3600), st.integers(1, 5),
                            max_size=6)


@st.composite
def tallies(draw: st.DrawFn) -> Tally:
    pairs = draw(small)
    open_during = draw(st.integers(0, pairs))
    return Tally(pairs=pairs, open_5=draw(st.integers(0, open_during)), open_during=open_during,
                 check_ins=draw(st.integers(0, pairs)), alert_s=float(draw(small) * 600),
                 full=draw(small), locked_during=draw(small), closed=draw(small),
                 on_time=draw(small), overdue=draw(small), shelters=draw(small),
                 audited=draw(small), ghosts=draw(small), fresh=draw(small),
                 open_buckets={k // 10 * 10: n for k, n in draw(histogram).items()},
                 case_open_s=draw(histogram))


def _sum(parts: list[Tally]) -> Tally:
    total = Tally(open_buckets={}, case_open_s={})
    for part in parts:
        total.add(part)
    return total


@given(st.lists(tallies(), min_size=1, max_size=5))
def test_summing_areas_in_any_order_gives_the_same_figures(parts: list[Tally]) -> None:
    forward = figures.tally_figures(_sum(parts), audits_started=True)
    backward = figures.tally_figures(_sum(list(reversed(parts))), audits_started=True)
    assert forward == backward
    pooled = _sum(parts)
    assert forward[FigureId.OPEN_WITHIN_5_MIN] == figures.share(
        sum(p.open_5 for p in parts), sum(p.pairs for p in parts))
    opened = sorted(s for p in parts for s, n in (p.case_open_s or {}).items()
                    for _ in range(n))
    assert forward[FigureId.CASE_TIME_TO_OPEN_P90] == (
        None if not opened else float(figures.percentile(opened, 0.9) or 0))
    assert pooled.pairs == sum(p.pairs for p in parts)


@given(tallies())
def test_freshness_is_no_data_only_before_the_citys_first_audit(t: Tally) -> None:
    before = figures.tally_figures(t, audits_started=False)
    after = figures.tally_figures(t, audits_started=True)
    assert before[FigureId.AUDIT_FRESHNESS] is None
    assert after[FigureId.AUDIT_FRESHNESS] == figures.share(t.fresh, t.shelters)
    assert after[FigureId.GHOST_RATE] == figures.share(t.ghosts, t.audited)
