"""The domain's words: a subject written into a key reads back as the same subject."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import shelterwatch
from shelterwatch.vocabulary import (
    ALERT_KINDS,
    INCIDENT_KINDS,
    FactKind,
    Noun,
    Subject,
    subject_of,
    subjects_in,
)

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


@given(subjects, subjects)
def test_every_subject_a_key_names_is_read_from_it(first: Subject, second: Subject) -> None:
    assert subjects_in(f"{first}:{second}") == [first, second]
    assert subjects_in(f"{first}:check:{second}") == [first]  # pairs only, as keys are written
    assert subjects_in(f"{first}:email") == [first]
    assert subjects_in(None) == []


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


SRC = Path(shelterwatch.__file__).parent
KINDS = {kind.value for kind in FactKind}
# Where a colon joins something other than a subject (the vocabulary itself reads subjects):
# setting syntax, dotted plug-in paths, the bot's button data, a page cursor, a checklist
# clause, the first words of an error's detail, a database host:port, an HTTP header, a case's
# evidence ("keyholder:open": who said what).
NOT_SUBJECTS = {"vocabulary.py", "audits/exports.py", "channels/telegram/bot.py",
                "cli/escalation.py", "cli/main.py", "config_syntax.py", "db.py",
                "ingest/registries.py", "notify/registry.py", "problems.py",
                "shelters/service.py", "simulate/crowd.py", "simulate/driver.py",
                "stats/pages.py",
                "stream/http.py"}


def _sources() -> list[tuple[str, ast.AST]]:
    return [(path.relative_to(SRC).as_posix(), ast.parse(path.read_text("utf-8")))
            for path in sorted(SRC.rglob("*.py"))]


def test_no_fact_kind_is_spelled_outside_the_vocabulary() -> None:
    found = [f"{name}:{node.lineno} {node.value!r}"
             for name, tree in _sources() if name != "vocabulary.py"
             for node in ast.walk(tree)
             if isinstance(node, ast.Constant) and isinstance(node.value, str)
             and node.value in KINDS]
    assert found == [], "use the FactKind member instead"


def test_no_subject_is_read_by_splitting_on_its_colon() -> None:
    found = [f"{name}:{node.lineno} {ast.unparse(node)}"
             for name, tree in _sources() if name not in NOT_SUBJECTS
             for node in ast.walk(tree)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
             and node.func.attr in ("split", "rsplit", "partition", "rpartition")
             and node.args and isinstance(node.args[0], ast.Constant)
             and node.args[0].value == ":"]
    assert found == [], "read it with Subject.parse / Subject.head / recipient_role"
