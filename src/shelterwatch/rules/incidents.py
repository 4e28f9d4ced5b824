"""What one observation does to a locked-door case (DESIGN §2 Incident, §4 the loop).

During an alert the first credible `locked` opens an incident at once — nobody waits for a second
report. Later reports of the same door join it (the "me too" count tells the operator how many
people stand outside). An authoritative `open` or `forced_open` resolves it. Outside an alert a
resident's `locked`, `unfit` or `missing` is recorded and routed to the owner, counting against
them, but opens no incident: nobody is running for that door right now.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shelterwatch.rules.status import is_authoritative
from shelterwatch.vocabulary import ObservationKind, Resolution, Role

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
