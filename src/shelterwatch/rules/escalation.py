"""The escalation ladder of a locked-door incident (DESIGN §4), as a pure plan.

Given what has happened to an incident so far and `now`, `plan_next_step` says which steps are due
and when to look again. The worker turns due steps into notifications, tasks and door commands and
records each as done; because the plan depends only on the facts and `now`, a restarted worker
recomputes exactly the same ladder and a step already done is never planned twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum


class Step(StrEnum):
    UNLOCK_DOOR = "unlock_door"
    NOTIFY_KEYHOLDERS = "notify_keyholders"
    DISPATCH_PATROL = "dispatch_patrol"
    ESCALATE_OPERATOR = "escalate_operator"
    CANCEL_PATROL_TASK = "cancel_patrol_task"
    NOTIFY_OWNER = "notify_owner"


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    """Delays of each rung after the incident opened, in seconds; a city may override any."""

    keyholder_after_s: float = 0.0
    patrol_after_s: float = 0.0
    operator_after_s: float = 300.0
    owner_after_s: float = 0.0
    # A 24/7 shelter without a keyholder check-in this long after the alert began is unverified.
    check_in_grace_s: float = 120.0


POLICY_FIELDS = frozenset(EscalationPolicy.__dataclass_fields__)


def policy_for(
    area_chain: list[str],
    *,
    base: EscalationPolicy,
    overrides: Mapping[str, Mapping[str, float]],
) -> EscalationPolicy:
    """The policy for an area: the base, then overrides from the oblast/city down to the area."""
    policy = base
    for area_id in reversed(area_chain):  # area_chain is nearest first
        if area_id in overrides:
            policy = replace(policy, **dict(overrides[area_id]))
    return policy


@dataclass(frozen=True, slots=True)
class IncidentFacts:
    """What the ladder needs to know about one incident, read from its facts."""

    opened_at: datetime
    during_alert: bool
    has_door_controller: bool = False
    resolved: bool = False
    keyholder_open: bool = False
    patrol_task_open: bool = False
    steps_done: frozenset[Step] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class Plan:
    due: tuple[Step, ...]
    next_at: datetime | None


def ladder(incident: IncidentFacts, policy: EscalationPolicy) -> list[tuple[Step, float]]:
    """Every rung of this incident's ladder with its delay, in the order they are taken."""
    if not incident.during_alert:
        # Outside an alert a locked door is the owner's to answer for (DESIGN §4.6).
        return [(Step.NOTIFY_OWNER, policy.owner_after_s)]
    rungs: list[tuple[Step, float]] = []
    if incident.has_door_controller:
        rungs.append((Step.UNLOCK_DOOR, 0.0))
    rungs += [
        (Step.NOTIFY_KEYHOLDERS, policy.keyholder_after_s),
        (Step.DISPATCH_PATROL, policy.patrol_after_s),
        (Step.ESCALATE_OPERATOR, policy.operator_after_s),
    ]
    return rungs


def plan_next_step(incident: IncidentFacts, policy: EscalationPolicy, now: datetime) -> Plan:
    """The steps due at `now` (in ladder order) and when the next one falls due, if any."""
    cancel = incident.patrol_task_open and (incident.resolved or incident.keyholder_open)
    if incident.resolved or incident.keyholder_open:
        # The door is open or the case closed: nobody needs to be woken any more.
        return Plan(due=(Step.CANCEL_PATROL_TASK,) if cancel else (), next_at=None)
    due: list[Step] = []
    upcoming: list[datetime] = []
    for step, delay_s in ladder(incident, policy):
        if step in incident.steps_done:
            continue
        at = incident.opened_at + timedelta(seconds=delay_s)
        if at <= now:
            due.append(step)
        else:
            upcoming.append(at)
    return Plan(due=tuple(due), next_at=min(upcoming) if upcoming else None)


def unverified_at(alert_started_at: datetime, policy: EscalationPolicy) -> datetime:
    """When a 24/7 shelter without a check-in becomes unverified and joins the patrol rounds."""
    return alert_started_at + timedelta(seconds=policy.check_in_grace_s)


def needs_check_in(
    *, obligation_24_7: bool, last_authoritative_open: datetime | None, alert_started_at: datetime
) -> bool:
    """Whether a shelter's keyholders get a check-in request when an alert starts (DESIGN §4.1)."""
    if not obligation_24_7:
        return False
    return last_authoritative_open is None or last_authoritative_open < alert_started_at
