"""The domain's words: a subject written into a key reads back as the same subject."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shelterwatch.vocabulary import ALERT_KINDS, INCIDENT_KINDS, FactKind, Noun, Subject, subject_of

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


@pytest.mark.parametrize(("key", "expected"), [
    ("incident:17", Subject(Noun.INCIDENT, 17)), ("incident:17:email", Subject(Noun.INCIDENT, 17)),
    ("alert:3:shelter:88", None), ("incident", None), (None, None), ("", None)])
def test_a_key_names_an_incident_or_nothing(key: object, expected: Subject | None) -> None:
    assert subject_of(key, Noun.INCIDENT) == expected


def test_every_kind_family_holds_only_its_own_kinds() -> None:
    assert {k.value.split(".")[0] for k in INCIDENT_KINDS} == {"incident"}
    assert {k.value.split(".")[0] for k in ALERT_KINDS} == {"alert"}
    assert INCIDENT_KINDS == {k for k in FactKind if k.value.startswith("incident.")}
