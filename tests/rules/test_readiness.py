"""The published category rule: worst item decides, every category carries its reasons."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from shelterwatch.audits import checklist as checklists
from shelterwatch.rules import readiness
from shelterwatch.rules.readiness import (
    ORDER,
    WORST_OF,
    WORST_OF_STRICT,
    Mark,
    Severity,
    ShelterRecord,
    Tier,
)
from shelterwatch.vocabulary import Readiness, ShelterKind

CHECKLIST = checklists.load()
kinds = st.sampled_from([k.value for k in ShelterKind])


@st.composite
def answer_sheets(draw: Any) -> tuple[str, int | None, dict[str, Any]]:
    kind = draw(kinds)
    capacity = draw(st.one_of(st.none(), st.integers(0, 2000)))
    answers: dict[str, Any] = {}
    for item in CHECKLIST.for_tier(Tier.FULL, kind):
        if item.answer is readiness.AnswerType.NUMBER:
            answers[item.id] = draw(st.one_of(st.just("na"), st.integers(0, 20_000)))
        else:
            answers[item.id] = draw(st.sampled_from(["pass", "pass", "pass", "fail", "na"]))
    return kind, capacity, answers


@given(answer_sheets())
def test_the_worst_failed_item_decides_and_every_fail_is_a_reason(
        sheet: tuple[str, int | None, dict[str, Any]]) -> None:
    kind, capacity, answers = sheet
    assert readiness.answer_problems(CHECKLIST, answers, tier=Tier.FULL, kind=kind) == []
    judged = readiness.judge(CHECKLIST, WORST_OF, answers, kind=kind, capacity=capacity)
    failed = [CHECKLIST.by_id[i] for i in judged.failed]
    severities = {i.severity for i in failed}
    if judged.ghost is not None or Severity.CRITICAL in severities:
        assert judged.category is Readiness.NOT_READY
    elif Severity.MAJOR in severities:
        assert judged.category is Readiness.LIMITED
    else:
        assert judged.category is Readiness.READY
    assert [r.item_id for r in judged.reasons] == sorted(
        judged.failed, key=lambda i: ["critical", "major", "minor"].index(
            CHECKLIST.by_id[i].severity.value))
    assert all(r.uk and r.en for r in judged.reasons)
    # The stricter published rule never judges a shelter better than the default one.
    strict = readiness.judge(CHECKLIST, WORST_OF_STRICT, answers, kind=kind, capacity=capacity)
    assert judged.category is not None and strict.category is not None
    assert ORDER[strict.category] >= ORDER[judged.category]


@given(answer_sheets(), st.data())
def test_one_more_fail_never_improves_and_a_fix_never_worsens(
        sheet: tuple[str, int | None, dict[str, Any]], data: st.DataObject) -> None:
    kind, capacity, answers = sheet
    passing = [i for i, v in answers.items() if v == "pass"]
    base = readiness.judge(CHECKLIST, WORST_OF, answers, kind=kind, capacity=capacity)
    assert base.category is not None
    if passing:
        item = data.draw(st.sampled_from(passing))
        worse = readiness.judge(CHECKLIST, WORST_OF, {**answers, item: "fail"}, kind=kind,
                                capacity=capacity)
        assert worse.category is not None and ORDER[worse.category] >= ORDER[base.category]
    record = readiness.after_audit(ShelterRecord(), audit_id=1, tier=Tier.FULL,
                                   answers=answers, checklist_version=CHECKLIST.version,
                                   at="2026-06-01T10:00:00+00:00")
    for item_id in base.failed:
        record = readiness.after_fix(record, item_id)
    fixed = readiness.current(CHECKLIST, WORST_OF, record, kind=kind, capacity=capacity)
    assert fixed.category is Readiness.READY and fixed.reasons == ()


def test_water_is_judged_against_capacity_times_two_litres_times_two_days() -> None:
    answers = {"water_drinking_litres": 399.0}
    judged = readiness.judge(CHECKLIST, WORST_OF, answers, kind="simple", capacity=100)
    assert judged.failed == ("water_drinking_litres",)
    assert judged.category is Readiness.LIMITED
    enough = readiness.judge(CHECKLIST, WORST_OF, {"water_drinking_litres": 400},
                             kind="simple", capacity=100)
    assert enough.failed == () and enough.category is Readiness.READY
    unknown = readiness.judge(CHECKLIST, WORST_OF, answers, kind="simple", capacity=None)
    assert unknown.failed == ()  # without a capacity the litres cannot be judged


def test_a_quick_check_can_find_trouble_but_never_calls_a_shelter_ready() -> None:
    quick = {i.id: Mark.PASS.value for i in CHECKLIST.for_tier(Tier.QUICK, "simple")
             if i.answer is readiness.AnswerType.PASS_FAIL}
    assert readiness.judge(CHECKLIST, WORST_OF, quick, kind="simple", capacity=50,
                           full=False).category is None
    locked = {**quick, "open_on_arrival": "fail"}
    assert readiness.judge(CHECKLIST, WORST_OF, locked, kind="simple", capacity=50,
                           full=False).category is Readiness.NOT_READY


def test_the_checklist_has_the_items_the_issue_names_and_a_kind_selects_them() -> None:
    assert len(CHECKLIST.items) >= 30
    groups = {i.group for i in CHECKLIST.items}
    assert {"access", "barrier_free", "exits", "ventilation", "lighting", "power", "water",
            "sanitation", "seating", "first_aid", "fire", "communications", "evacuation",
            "condition", "pets", "navigation"} <= groups
    blast_only = {i.id for i in CHECKLIST.items if i.kinds == frozenset({"shelter"})}
    assert {"generator_test_log", "overpressure_test"} <= blast_only
    metro = {i.id for i in CHECKLIST.for_tier(Tier.FULL, "metro")}
    assert "generator_test_log" not in metro and "exists" in metro
