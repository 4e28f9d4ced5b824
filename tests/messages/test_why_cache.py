"""A nearest answer's "why" is worded once per distinct reasons, and always the same words."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shelterwatch.messages import status as wording
from shelterwatch.vocabulary import Reason, ReasonCode, Status

reasons = st.lists(st.one_of(
    st.builds(lambda s: Reason.of(ReasonCode.STATUS, status=s.value), st.sampled_from(Status)),
    st.builds(lambda m: Reason.of(ReasonCode.WALK, minutes=m), st.integers(1, 120)),
    st.builds(lambda c: Reason.of(ReasonCode.CAPACITY, capacity=c), st.integers(1, 5000)),
    st.just(Reason.of(ReasonCode.REACHABLE)), st.just(Reason.of(ReasonCode.NOT_REACHABLE)),
    st.just(Reason.of(ReasonCode.STEP_FREE))), max_size=5)


@given(reasons)
def test_the_cached_why_reads_exactly_as_freshly_worded(items: list[Reason]) -> None:
    fresh = dict(wording._why.__wrapped__(tuple(items)))
    assert wording.why(items) == fresh
    assert wording.why(items) == fresh  # the second time from the cache


def test_a_caller_changing_its_answer_does_not_change_the_next_one() -> None:
    items = [Reason.of(ReasonCode.WALK, minutes=4)]
    first = wording.why(items)
    first["uk"] = "changed"
    assert wording.why(items)["uk"] != "changed"
    assert "4" in wording.why(items)["en"]
