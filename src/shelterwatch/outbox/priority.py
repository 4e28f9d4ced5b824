"""Which delivery goes first when many wait: as data, one number per step (lower goes first).

At an alert's start ten thousand check-in requests are queued at once; a door to unlock, or a
keyholder told that residents stand at their locked door right now, must not wait behind them.
Workers claim in this order within each channel's lane.
"""

from __future__ import annotations

DOOR = 0  # a door controller's command: people are at that door now
INCIDENT = 1  # someone reported a locked door: the keyholders, the owner, the operator desk
ALERT = 2  # an alert started: every keyholder's check-in request
ROUTINE = 5  # outside an alert: routing to owners and the like

BY_STEP: dict[str, int] = {
    "unlock": DOOR,
    "unlock_door": DOOR,
    "notify_keyholders": INCIDENT,
    "notify_owner": INCIDENT,
    "escalate_operator": INCIDENT,
    "check_in": ALERT,
    "route_to_owner": ROUTINE,
}


def of(step: str, channel: str) -> int:
    """The priority of a delivery of `step` on `channel`; door commands always go first."""
    if channel == "door":
        return DOOR
    return BY_STEP.get(step, INCIDENT)
