"""What a report does to a locked-door case, in the situations the loop describes."""

from __future__ import annotations

import pytest

from shelterwatch.rules.incidents import Action, decide
from shelterwatch.vocabulary import ObservationKind as K
from shelterwatch.vocabulary import Resolution
from shelterwatch.vocabulary import Role as R

CASES = [
    ("first locked during an alert opens an incident", K.LOCKED, R.RESIDENT, 1.0, True, False,
     Action.OPEN, None),
    ("a second locked joins as me-too", K.LOCKED, R.RESIDENT, 1.0, True, True, Action.JOIN, None),
    ("locked from far away cannot open one alone", K.LOCKED, R.RESIDENT, 0.1, True, False,
     Action.RECORD, None),
    ("locked outside an alert goes to the owner", K.LOCKED, R.RESIDENT, 1.0, False, False,
     Action.ROUTE_TO_OWNER, None),
    ("unfit outside an alert goes to the owner", K.UNFIT, R.RESIDENT, 1.0, False, False,
     Action.ROUTE_TO_OWNER, None),
    ("keyholder open resolves", K.OPEN, R.KEYHOLDER, 1.0, True, True, Action.RESOLVE,
     Resolution.OPENED_BY_KEYHOLDER),
    ("door controller open resolves", K.OPEN, R.DOOR, 1.0, True, True, Action.RESOLVE,
     Resolution.OPENED_BY_KEYHOLDER),
    ("patrol finds it open", K.OPEN, R.PATROL, 1.0, True, True, Action.RESOLVE,
     Resolution.FOUND_OPEN),
    ("rescuers force it", K.FORCED_OPEN, R.PATROL, 1.0, True, True, Action.RESOLVE,
     Resolution.FORCED_OPEN),
    ("a resident's open does not close the case", K.OPEN, R.RESIDENT, 1.0, True, True,
     Action.ATTACH, None),
    ("patrol confirms locked during alert opens one", K.LOCKED, R.PATROL, 1.0, True, False,
     Action.OPEN, None),
    ("open with no incident is just evidence", K.OPEN, R.RESIDENT, 1.0, True, False,
     Action.RECORD, None),
    ("entry refused during an alert opens an incident", K.REFUSED, R.RESIDENT, 1.0, True, False,
     Action.OPEN, None),
    ("a refusal joins an open locked-door case", K.REFUSED, R.RESIDENT, 1.0, True, True,
     Action.JOIN, None),
    ("entry refused outside an alert goes to the owner", K.REFUSED, R.RESIDENT, 1.0, False,
     False, Action.ROUTE_TO_OWNER, None),
]


@pytest.mark.parametrize(("story", "kind", "role", "plaus", "alert", "incident", "action", "res"),
                         CASES, ids=[c[0] for c in CASES])
def test_incident_decisions(story, kind, role, plaus, alert, incident, action, res) -> None:
    decision = decide(kind=kind, role=role, plausibility=plaus, alert_active=alert,
                      incident_open=incident)
    assert (decision.action, decision.resolution) == (action, res), story
