"""The escalation ladder: who is woken when, for a locked door (DESIGN §4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shelterwatch import config
from shelterwatch.rules.escalation import (
    EscalationPolicy,
    IncidentFacts,
    Step,
    needs_check_in,
    plan_next_step,
    policy_for,
)

OPENED = datetime(2023, 5, 31, 23, 51, 31, tzinfo=UTC)
POLICY = EscalationPolicy()


def at(seconds: float) -> datetime:
    return OPENED + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("facts", "now_s", "due", "next_s"),
    [
        (IncidentFacts(OPENED, during_alert=True), 0,
         (Step.NOTIFY_KEYHOLDERS, Step.DISPATCH_PATROL), 300),
        (IncidentFacts(OPENED, during_alert=True, has_door_controller=True), 0,
         (Step.UNLOCK_DOOR, Step.NOTIFY_KEYHOLDERS, Step.DISPATCH_PATROL), 300),
        (IncidentFacts(OPENED, during_alert=True,
                       steps_done=frozenset({Step.NOTIFY_KEYHOLDERS, Step.DISPATCH_PATROL})),
         299, (), 300),
        (IncidentFacts(OPENED, during_alert=True,
                       steps_done=frozenset({Step.NOTIFY_KEYHOLDERS, Step.DISPATCH_PATROL})),
         300, (Step.ESCALATE_OPERATOR,), None),
        (IncidentFacts(OPENED, during_alert=False), 0, (Step.NOTIFY_OWNER,), None),
        (IncidentFacts(OPENED, during_alert=True, keyholder_open=True, patrol_task_open=True),
         10, (Step.CANCEL_PATROL_TASK,), None),
        (IncidentFacts(OPENED, during_alert=True, resolved=True), 400, (), None),
    ],
)
def test_ladder_wakes_the_right_people_at_the_right_time(facts, now_s, due, next_s):
    plan = plan_next_step(facts, POLICY, at(now_s))
    assert plan.due == due
    assert plan.next_at == (None if next_s is None else at(next_s))


def test_locked_report_during_alert_reaches_keyholder_and_patrol_at_once():
    plan = plan_next_step(IncidentFacts(OPENED, during_alert=True), POLICY, OPENED)
    assert {Step.NOTIFY_KEYHOLDERS, Step.DISPATCH_PATROL} <= set(plan.due)
    assert Step.ESCALATE_OPERATOR not in plan.due


def test_keyholder_recording_open_cancels_the_patrol_task_and_stops_the_ladder():
    facts = IncidentFacts(OPENED, during_alert=True, keyholder_open=True, patrol_task_open=True,
                          steps_done=frozenset({Step.NOTIFY_KEYHOLDERS, Step.DISPATCH_PATROL}))
    plan = plan_next_step(facts, POLICY, at(600))
    assert plan.due == (Step.CANCEL_PATROL_TASK,)
    assert plan.next_at is None


def parse_overrides(text: str) -> dict[str, dict[str, float]]:
    """The overrides as the process has them once its settings are read."""
    typed = config.load(escalation_overrides=text).escalation_overrides
    return {area: override.changes() for area, override in typed.items()}


def test_a_city_can_shorten_its_operator_escalation():
    overrides = parse_overrides("31:operator_after_s=60; 14:operator_after_s=900,patrol_after_s=30")
    kyiv_district = policy_for(["8000000000", "31"], base=POLICY, overrides=overrides)
    assert kyiv_district.operator_after_s == 60
    assert kyiv_district.patrol_after_s == 0
    oblast = policy_for(["14"], base=POLICY, overrides=overrides)
    assert (oblast.operator_after_s, oblast.patrol_after_s) == (900, 30)


def test_a_nearer_area_override_wins_over_its_city():
    overrides = parse_overrides("31:operator_after_s=60;8000000000:operator_after_s=30")
    assert policy_for(["8000000000", "31"], base=POLICY, overrides=overrides).operator_after_s == 30


@pytest.mark.parametrize("bad", ["operator_after_s=5", "31:nonsense=1", "31:operator_after_s=-1"])
def test_a_mistyped_override_is_refused(bad):
    with pytest.raises(config.ConfigError, match="SHELTERWATCH_ESCALATION_OVERRIDES"):
        parse_overrides(bad)


def test_only_24_7_shelters_without_open_since_alert_get_a_check_in():
    start = OPENED
    assert needs_check_in(obligation_24_7=True, last_authoritative_open=None,
                          alert_started_at=start)
    assert needs_check_in(obligation_24_7=True, last_authoritative_open=at(-60),
                          alert_started_at=start)
    assert not needs_check_in(obligation_24_7=True, last_authoritative_open=at(5),
                              alert_started_at=start)
    assert not needs_check_in(obligation_24_7=False, last_authoritative_open=None,
                              alert_started_at=start)


steps = st.frozensets(st.sampled_from(list(Step)))
facts_strategy = st.builds(
    IncidentFacts, opened_at=st.just(OPENED), during_alert=st.booleans(),
    has_door_controller=st.booleans(), resolved=st.booleans(), keyholder_open=st.booleans(),
    patrol_task_open=st.booleans(), steps_done=steps,
)
policies = st.builds(
    EscalationPolicy, keyholder_after_s=st.floats(0, 600), patrol_after_s=st.floats(0, 600),
    operator_after_s=st.floats(0, 3600), owner_after_s=st.floats(0, 600),
)


@given(facts_strategy, policies, st.floats(0, 7200))
def test_a_done_step_is_never_planned_again_and_next_wake_is_in_the_future(facts, policy, now_s):
    plan = plan_next_step(facts, policy, at(now_s))
    assert not (set(plan.due) - {Step.CANCEL_PATROL_TASK}) & facts.steps_done
    assert len(plan.due) == len(set(plan.due))
    if plan.next_at is not None:
        assert plan.next_at > at(now_s)


@given(facts_strategy, policies, st.floats(0, 3600), st.floats(0, 3600))
def test_a_due_step_stays_due_until_it_is_done(facts, policy, t1, t2):
    early, late = sorted((t1, t2))
    assert set(plan_next_step(facts, policy, at(early)).due) <= set(
        plan_next_step(facts, policy, at(late)).due)


@given(facts_strategy, policies, st.floats(0, 7200))
def test_following_the_plan_finishes_the_ladder(facts, policy, now_s):
    done = set(facts.steps_done)
    for _ in range(10):
        f = IncidentFacts(facts.opened_at, facts.during_alert, facts.has_door_controller,
                          facts.resolved, facts.keyholder_open, False, frozenset(done))
        plan = plan_next_step(f, policy, at(now_s))
        if not plan.due:
            break
        done |= set(plan.due)
    assert plan.due == ()
