"""Who was reached about a report, by which channel and when — and who was not.

A resident at a locked door decides whether to wait or walk on from what the receipt says, so it
says only what happened: each line is read from the outbox (a message `sent` at a time, still
`pending`, or `failed`), the ladder (a rung taken, or due at a time) and the patrol tasks. When
nobody is registered to reach, the line says so in plain words. No name, address or contact of
anyone leaves here: only roles, channels, states and times.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from shelterwatch.areas import service as areas
from shelterwatch.clock import as_utc
from shelterwatch.config import Settings
from shelterwatch.doors import service as doors
from shelterwatch.escalation import ladder
from shelterwatch.escalation.models import StepTaken
from shelterwatch.incidents import service as incidents
from shelterwatch.incidents.models import Incident
from shelterwatch.keyholders import service as keyholders
from shelterwatch.log import chain
from shelterwatch.messages.catalogue import both
from shelterwatch.outbox.models import Delivery
from shelterwatch.patrols import service as patrols
from shelterwatch.reports import service as reports
from shelterwatch.rules.escalation import Step
from shelterwatch.rules.escalation import ladder as rungs
from shelterwatch.shelters.models import Shelter
from shelterwatch.vocabulary import TaskKind, recipient_role

# Whom a line names when a recipient's kind has no words of its own (the step's party).
PARTIES = frozenset({"keyholder", "owner", "operator", "door"})


@dataclass(frozen=True, slots=True)
class Clock:
    """Formats times as read where the shelter is."""

    zone: str

    def hm(self, at: datetime) -> str:
        return as_utc(at).astimezone(ZoneInfo(self.zone)).strftime("%H:%M")


def _line(who: str, state: str, at: datetime | None, key: str,
          params: dict[str, Any] | None = None, channel: str | None = None) -> dict[str, Any]:
    """One line of the receipt, worded by the catalogue's `reach.*` message `key`."""
    return {"who": who, "state": state, "channel": channel,
            "at": chain.format_at(at) if at else None, "text": both(f"reach.{key}", params)}


def _due(who: str, at: datetime, now: datetime, clock: Clock) -> dict[str, Any]:
    """A rung not taken yet: "is to be … at 22:30", or, once that time has passed without it,
    "… was due at 22:30 — not done yet" (the worker may be down: say so, do not pretend)."""
    params = {"time": clock.hm(at)}
    if as_utc(now) - as_utc(at) > timedelta(seconds=5):
        return _line(who, "overdue", at, f"{who}.late", params)
    return _line(who, "due", at, f"{who}.soon", params)


def _deliveries(session: Session, subject: str, step: str) -> list[Delivery]:
    return list(session.execute(select(Delivery).where(Delivery.subject == subject,
                                                       Delivery.step == step)
                                .order_by(Delivery.id)).scalars())


def _delivery_lines(rows: list[Delivery], who: str, clock: Clock) -> list[dict[str, Any]]:
    """One line per message: sent at, still being sent, or failed — never "notified" in bulk."""
    out = []
    for d in rows:
        role = recipient_role(d.recipient)
        params = {"who": role if role in PARTIES else who, "channel": d.channel}
        if d.state == "sent" and d.sent_at is not None:
            out.append(_line(role, "sent", d.sent_at, "sent",
                             {**params, "time": clock.hm(d.sent_at)}, d.channel))
        elif d.state in ("failed", "dead"):
            out.append(_line(role, "failed", d.created_at, "failed", params, d.channel))
        else:
            out.append(_line(role, "pending", d.created_at, "pending", params, d.channel))
    return out


def _patrol_lines(session: Session, incident: Incident, clock: Clock) -> list[dict[str, Any]]:
    out = []
    for task in patrols.tasks_for_incident(session, incident.id, kind=TaskKind.OPEN_LOCKED):
        made = as_utc(task.created_at)
        if task.state == patrols.OPEN and task.unit_id is None:
            out.append(_line("patrol", "no_unit", made, "patrol.no_unit"))
        elif task.state == patrols.OPEN:
            params: dict[str, Any] = {"time": clock.hm(made)}
            if task.eta_s:
                params["minutes"] = max(1, round(task.eta_s / 60))
            out.append(_line("patrol", "assigned", made,
                             "patrol.assigned_eta" if task.eta_s else "patrol.assigned", params))
        elif task.state == patrols.TAKEN and task.taken_at is not None:
            out.append(_line("patrol", "on_the_way", task.taken_at, "patrol.on_the_way",
                             {"time": clock.hm(task.taken_at)}))
        elif task.state == "done" and task.done_at is not None:
            out.append(_line("patrol", "done", task.done_at, "patrol.done",
                             {"time": clock.hm(task.done_at)}))
        elif task.state == "cancelled":
            out.append(_line("patrol", "cancelled", task.done_at or made, "patrol.cancelled"))
    return out


def of_incident(session: Session, incident: Incident, *, settings: Settings,
                now: datetime) -> list[dict[str, Any]]:
    """Every party of a locked-door case: reached (when, how), pending (due when), or nobody."""
    clock = Clock(settings.timezone)
    subject = f"incident:{incident.id}"
    taken = {s: as_utc(at) for s, at in session.execute(
        select(StepTaken.step, StepTaken.at).where(StepTaken.incident_id == incident.id)).all()}
    policy = ladder.policy_for_area(session, settings, incident.area_id)
    due = {step.value: as_utc(incident.opened_at) + timedelta(seconds=delay)
           for step, delay in rungs(ladder.facts_of(session, incident), policy)}
    open_case = incident.resolved_at is None
    lines: list[dict[str, Any]] = []

    if doors.get(session, incident.shelter_id) is not None:
        lines += _delivery_lines(_deliveries(session, subject, Step.UNLOCK_DOOR.value), "door",
                                 clock)

    if not keyholders.keyholder_addresses(session, incident.shelter_id):
        lines.append(_line("keyholder", "none", None, "keyholder.none"))
    elif Step.NOTIFY_KEYHOLDERS.value in taken:
        lines += _delivery_lines(_deliveries(session, subject, Step.NOTIFY_KEYHOLDERS.value),
                                 "keyholder", clock)
    elif open_case and Step.NOTIFY_KEYHOLDERS.value in due:
        at = due[Step.NOTIFY_KEYHOLDERS.value]
        lines.append(_due("keyholder", at, now, clock))

    patrol = _patrol_lines(session, incident, clock)
    if patrol:
        lines += patrol
    elif open_case and Step.DISPATCH_PATROL.value in due:
        at = due[Step.DISPATCH_PATROL.value]
        lines.append(_due("patrol", at, now, clock))

    if Step.ESCALATE_OPERATOR.value in taken:
        at = taken[Step.ESCALATE_OPERATOR.value]
        lines.append(_line("operator", "escalated", at, "operator.escalated",
                           {"time": clock.hm(at)}))
        lines += _delivery_lines(_deliveries(session, subject, Step.ESCALATE_OPERATOR.value),
                                 "operator", clock)
    elif open_case and Step.ESCALATE_OPERATOR.value in due:
        at = due[Step.ESCALATE_OPERATOR.value]
        left = max(0, int((at - as_utc(now)).total_seconds()))
        lines.append(_line("operator", "due", at, "operator.due",
                           {"time": clock.hm(at), "left": f"{left // 60}:{left % 60:02d}"}))
    return lines


def of_routed_report(session: Session, *, observation_id: str, shelter_id: int,
                     settings: Settings) -> list[dict[str, Any]]:
    """Outside an alert a report goes to the shelter's owner — if the registry names one."""
    if not keyholders.owner_addresses(session, shelter_id):
        return [_line("owner", "none", None, "owner.none")]
    rows = _deliveries(session, f"observation:{observation_id}", "notify_owner")
    if not rows:
        return [_line("owner", "pending", None, "owner.pending")]
    return _delivery_lines(rows, "owner", Clock(settings.timezone))


def progress(session: Session, *, tracking_id: str, settings: Settings,
             now: datetime) -> dict[str, Any]:
    """The report's public timeline and who was reached: what the tracking page shows."""
    story = reports.timeline(session, tracking_id=tracking_id, zone=settings.timezone)
    incident_id = (story.get("incident") or {}).get("id")
    if incident_id is not None:
        reached = of_incident(session, incidents.get_or_raise(session, incident_id),
                              settings=settings, now=now)
    elif story.get("routed_to") == "owner" and story["shelter"]:
        reached = of_routed_report(session, observation_id=story["tracking_id"],
                                   shelter_id=story["shelter"]["id"], settings=settings)
    else:
        reached = []
    return {**story, "reach": reached, "now": chain.format_at(now), "zone": settings.timezone,
            "dossier": _public_dossier(session, story, settings)}


def _public_dossier(session: Session, story: dict[str, Any], settings: Settings) -> str | None:
    """The case's dossier page, or None where the location policy keeps it from the public: a
    link that answers 401 to the person who followed it only tells them something is hidden."""
    incident_id = (story.get("incident") or {}).get("id")
    if incident_id is None:
        return None
    if settings.stats_hidden_oblasts and story.get("shelter"):
        area_id = session.execute(select(Shelter.area_id).where(
            Shelter.id == story["shelter"]["id"])).scalar_one_or_none()
        if area_id is not None and set(areas.ancestors_of(session, area_id)) & set(
                settings.stats_hidden_oblasts):
            return None
    return f"/dossiers/incident/{incident_id}"
