"""What one observation does to a locked-door case (DESIGN §2 Incident, §4 the loop).

During an alert the first credible `locked` opens an incident at once — nobody waits for a second
report. Later reports of the same door join it (the "me too" count tells the operator how many
people stand outside). An authoritative `open` or `forced_open` resolves it. Outside an alert a
resident's `locked`, `unfit` or `missing` is recorded and routed to the owner, counting against
them, but opens no incident: nobody is running for that door right now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from shelterwatch.rules.status import is_authoritative
from shelterwatch.vocabulary import ObservationKind, Resolution, Role, as_utc

MIN_CREDIBLE = 0.3  # plausibility below which a `locked` report cannot open an incident alone


class Action(StrEnum):
    OPEN = "open"  # start an incident with this observation
    JOIN = "join"  # another report of the same locked door: "me too"
    ATTACH = "attach"  # evidence for the open incident's timeline, not a "me too"
    RESOLVE = "resolve"  # the door is open: close the incident
    ROUTE_TO_OWNER = "route_to_owner"  # outside an alert: the owner must fix it
    RECORD = "record"  # evidence for the status, nothing more


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    resolution: Resolution | None = None
    why_uk: str = ""
    why_en: str = ""


_OWNER_KINDS = frozenset({ObservationKind.LOCKED, ObservationKind.UNFIT, ObservationKind.MISSING,
                          ObservationKind.REFUSED})
# Nobody gets in either way: a refused entry during an alert is a case like a locked door.
_CASE_KINDS = frozenset({ObservationKind.LOCKED, ObservationKind.REFUSED})


def resolution_for(kind: ObservationKind, role: Role) -> Resolution | None:
    """How an authoritative observation ends a locked-door case, if it does."""
    if not is_authoritative(role):
        return None
    if kind is ObservationKind.FORCED_OPEN:
        return Resolution.FORCED_OPEN
    if kind is ObservationKind.OPEN:
        if role in (Role.KEYHOLDER, Role.DOOR):
            return Resolution.OPENED_BY_KEYHOLDER
        return Resolution.FOUND_OPEN
    return None


def decide(*, kind: ObservationKind, role: Role, plausibility: float, alert_active: bool,
           incident_open: bool) -> Decision:
    """The one thing to do with an observation, given the alert and any open incident."""
    if incident_open:
        resolution = resolution_for(kind, role)
        if resolution is not None:
            return Decision(Action.RESOLVE, resolution, "двері відчинено", "the door is open")
        if kind in _CASE_KINDS:
            return Decision(Action.JOIN, None, "додано до відкритого випадку",
                            "added to the open case")
        return Decision(Action.ATTACH, None, "додано до історії випадку",
                        "added to the case's timeline")
    if kind in _CASE_KINDS and alert_active:
        if is_authoritative(role) or plausibility >= MIN_CREDIBLE:
            return Decision(Action.OPEN, None, "під час тривоги зачинене укриття — це випадок",
                            "a locked shelter during an alert is an incident")
        return Decision(Action.RECORD, None, "повідомлення надто далеко від укриття",
                        "the report came from too far away to act on alone")
    if kind in _OWNER_KINDS and not is_authoritative(role):
        return Decision(Action.ROUTE_TO_OWNER, None, "передано власнику укриття",
                        "routed to the shelter's owner")
    return Decision(Action.RECORD)


class CaseView(Protocol):
    """A case as its facts need it: a stored row or the intake's value."""

    @property
    def id(self) -> int: ...
    @property
    def tracking_id(self) -> str: ...
    @property
    def shelter_id(self) -> int: ...
    @property
    def me_too(self) -> int: ...
    @property
    def opened_at(self) -> datetime: ...


def opened_payload(*, incident_id: int, shelter_id: int, area_id: str, alert_id: int | None,
                   observation_id: str) -> dict[str, Any]:
    """What `incident.opened` carries: enough to rebuild the row from the log."""
    return {"id": incident_id, "tracking_id": observation_id, "shelter_id": shelter_id,
            "area_id": area_id, "alert_id": alert_id, "observation_id": observation_id}


def joined_payload(case: CaseView, *, observation_id: str, kind: str,
                   me_too: bool) -> dict[str, Any]:
    """What `incident.joined` carries."""
    return {"id": case.id, "tracking_id": case.tracking_id,
            "shelter_id": case.shelter_id, "observation_id": observation_id,
            "kind": kind, "me_too": me_too,
            "me_too_count": case.me_too + (1 if me_too else 0)}


def resolved_payload(case: CaseView, *, resolution: Resolution, observation_id: str | None,
                     now: datetime) -> dict[str, Any]:
    """What `incident.resolved` carries; time-to-open runs from the first report to now."""
    seconds = int((as_utc(now) - as_utc(case.opened_at)).total_seconds())
    return {"id": case.id, "tracking_id": case.tracking_id,
            "shelter_id": case.shelter_id, "resolution": resolution.value,
            "observation_id": observation_id, "time_to_open_s": seconds}
