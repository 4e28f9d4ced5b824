"""The domain's words: a subject written into a key reads back as the same subject."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shelterwatch.vocabulary import Noun, Subject

tracking_ids = st.from_regex(r"\AKV-[0-9A-Z]{4}-[0-9A-Z]{2}\Z")
subjects = st.builds(Subject, st.sampled_from(Noun),
                     st.integers(min_value=0, max_value=2**62) | tracking_ids)


@given(subjects)
def test_a_subject_reads_back_from_its_text(subject: Subject) -> None:
    assert Subject.parse(str(subject)) == subject


@given(subjects, subjects)
def test_a_longer_key_starts_with_its_subject(first: Subject, second: Subject) -> None:
    assert Subject.head(f"{first}:{second}") == first
    assert Subject.head(f"{first}:email") == first


@pytest.mark.parametrize("text", ["incident", "incident:", "case:17", "alert:3:shelter:88", ":17"])
def test_what_is_not_noun_and_id_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Subject.parse(text)


def test_a_tracking_id_names_no_row() -> None:
    assert Subject.parse("incident:17").number == 17
    with pytest.raises(ValueError):
        _ = Subject.parse("observation:KV-7F3K-2Q").number
