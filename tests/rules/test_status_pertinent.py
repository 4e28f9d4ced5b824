"""Loading only the evidence the status rule uses changes no resident's answer.

During a burst one phone may report a door many times; the writer loads only each reporter's newest
report and the newest authoritative word (`pertinent`). These properties hold it to that: whatever
the evidence, the status, confidence, explanation and cited observations are those of all of it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from shelterwatch.messages.status import explain
from shelterwatch.rules.status import Derived, Evidence, carried, derive, pertinent
from shelterwatch.vocabulary import ObservationKind as K
from shelterwatch.vocabulary import Role as R

# Owners read their figures; they give no evidence (checks refuse their tokens).
OBSERVERS = [r for r in R if r is not R.OWNER]

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def words(derived: Derived, lang: str) -> str:
    """The explanation a resident reads, worded by the catalogue as the API words it."""
    return explain(derived.status, derived.reasons, lang, reference=NOW)

# Ages cross the crowd's horizon (6 h) and the authoritative time to live (12 h), and a few lie in
# the future; whole minutes make equal times, which the rule breaks by id, common.
minutes = st.integers(min_value=-30, max_value=14 * 60)


@st.composite
def evidence(draw: st.DrawFn) -> list[Evidence]:
    n = draw(st.integers(min_value=0, max_value=30))
    ids = draw(st.lists(st.text("ABCDEFGH", min_size=1, max_size=3), min_size=n, max_size=n,
                        unique=True))
    roles = draw(st.lists(st.sampled_from(OBSERVERS), min_size=n, max_size=n))
    # A resident's report may come from a quarantined source (set aside), whoever reported it.
    return [Evidence(id=ids[i], kind=draw(st.sampled_from(list(K))), role=roles[i],
                     at=NOW - timedelta(minutes=draw(minutes)),
                     reporter=draw(st.sampled_from(["", "d:a", "d:b", "d:c", "token-1"])),
                     distance_m=draw(st.one_of(st.none(), st.floats(0, 20_000))),
                     reason=draw(st.sampled_from(["", "flooded", "no light"])),
                     set_aside=roles[i] is R.RESIDENT and draw(st.booleans()))
            for i in range(n)]


@given(evidence())
def test_status_from_pertinent_evidence_is_the_status_from_all_evidence(
        items: list[Evidence]) -> None:
    assert derive(pertinent(items, now=NOW), now=NOW) == derive(items, now=NOW)


@given(evidence(), evidence())
def test_a_report_added_to_pertinent_evidence_reads_as_if_added_to_all(
        earlier: list[Evidence], later: list[Evidence]) -> None:
    """A batch keeps the pruned evidence it loaded and appends each new report to it."""
    later = [Evidence(f"n{e.id}", e.kind, e.role, e.at, e.reporter, e.distance_m, e.reason,
                      e.set_aside) for e in later]
    assert (derive([*pertinent(earlier, now=NOW), *later], now=NOW)
            == derive([*earlier, *later], now=NOW))


@given(evidence())
def test_one_phone_reporting_many_times_is_loaded_once(items: list[Evidence]) -> None:
    kept = pertinent(items, now=NOW)
    # Once, and once more if some of its reports were set aside (their source quarantined).
    crowd = [(e.reporter, e.set_aside) for e in kept if e.role in (R.RESIDENT, R.AUDITOR)]
    assert len(crowd) == len(set(crowd))
    assert len([e for e in kept if e.role not in (R.RESIDENT, R.AUDITOR)]) <= 1
    assert pertinent(kept, now=NOW) == kept


@given(evidence(), evidence(), st.integers(min_value=0, max_value=13 * 60))
def test_what_a_writer_carries_to_its_next_batch_answers_as_everything_would(
        earlier: list[Evidence], later: list[Evidence], minutes_on: int) -> None:
    """Between batches a writer keeps only what `carried` keeps; later, with more reports, the
    status at any later time is the status from everything."""
    later = [Evidence(f"n{e.id}", e.kind, e.role, e.at, e.reporter, e.distance_m, e.reason,
                      e.set_aside) for e in later]
    then = NOW + timedelta(minutes=minutes_on)
    kept = [*carried(earlier, now=NOW), *later]
    assert pertinent(kept, now=then) == pertinent([*earlier, *later], now=then)
    assert derive(kept, now=then) == derive([*earlier, *later], now=then)


def test_the_newest_reason_is_shown_whatever_a_phone_said_earlier() -> None:
    """The phone that spoke first but whose latest word is newest gives the reason shown."""
    def at(minutes_ago: int) -> datetime:
        return NOW - timedelta(minutes=minutes_ago)

    items = [Evidence("A", K.OPEN, R.RESIDENT, at(30), "d:x"),
             Evidence("B", K.UNFIT, R.RESIDENT, at(20), "d:y", reason="flooded"),
             Evidence("C", K.UNFIT, R.RESIDENT, at(10), "d:x", reason="no light")]
    derived = derive(items, now=NOW)
    assert "(no light)" in words(derived, "en") and "flooded" not in words(derived, "en")
    assert derive(pertinent(items, now=NOW), now=NOW) == derived
