"""Deciding observations one by one equals deciding them as a batch: a property, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from shelterwatch.intake import core
from shelterwatch.vocabulary import ObservationKind, Role

NOW = datetime(2023, 6, 1, 0, 30, tzinfo=UTC)
SHELTERS = {sid: core.Place(sid, 50.45 + sid / 1000, 30.52, "8000000000") for sid in (1, 2, 3)}
ANCESTORS = {"8000000000": ["8000000000", "31"]}
ALERT = core.Span(7, "31", NOW - timedelta(minutes=5), None)


def known(*, alert: bool) -> core.Known:
    """What is known of a city with three shelters and no evidence yet."""
    return core.Known(next_seq=101, shelters=dict(SHELTERS),
                      spans=[ALERT] if alert else [], alerts=[ALERT] if alert else [],
                      ancestors=dict(ANCESTORS), open_cases={}, evidence={}, statuses={},
                      next_incident_id=1)


items = st.builds(
    core.Item,
    shelter_id=st.sampled_from([*sorted(SHELTERS), 404]),  # 404: not in the registry
    kind=st.sampled_from(ObservationKind),
    role=st.sampled_from([Role.RESIDENT, Role.RESIDENT, Role.KEYHOLDER, Role.PATROL, Role.DOOR]),
    reporter=st.sampled_from(["d:a", "d:b", "d:c", "patrol-7", ""]),
    actor=st.just("test"),
    lat=st.sampled_from([None, 50.451, 50.6]),
    lon=st.just(30.52),
)


def _answers(outcome: core.Outcome) -> list[Any]:
    return [r.decision.action if isinstance(r, core.Intake) else r for r in outcome.results]


def _cases(outcome: core.Outcome) -> dict[int, core.Case]:
    return {c.id: c for c in [*outcome.opened, *outcome.changed]}


@given(st.lists(items, min_size=1, max_size=12), st.booleans())
def test_one_by_one_equals_as_a_batch(batch: list[core.Item], alert: bool) -> None:
    ids = [f"KV-{n:04d}-00" for n in range(len(batch))]
    together = core.decide(known(alert=alert), batch, now=NOW, ids=iter(ids))

    state = known(alert=alert)
    facts: list[core.Draft] = []
    observations: list[dict[str, Any]] = []
    cases: dict[int, core.Case] = {}
    answers: list[Any] = []
    fresh = iter(ids)
    for item in batch:
        alone = core.decide(state, [item], now=NOW, ids=fresh)
        answers += _answers(alone)
        facts += alone.facts
        observations += alone.observations
        cases |= _cases(alone)
        state = alone.after.following(NOW)  # the next observation starts from what was stored

    assert answers == _answers(together)
    assert facts == together.facts
    assert observations == together.observations
    assert cases == _cases(together)
    assert state.next_seq == together.after.next_seq
    assert state.open_cases == together.after.open_cases


@given(st.lists(items, min_size=1, max_size=8), st.booleans())
def test_deciding_changes_nothing_it_was_given(batch: list[core.Item], alert: bool) -> None:
    given_ = known(alert=alert)
    first = core.decide(given_, batch, now=NOW, ids=(f"KV-{n:04d}-00" for n in range(99)))
    again = core.decide(given_, batch, now=NOW, ids=(f"KV-{n:04d}-00" for n in range(99)))
    assert given_ == known(alert=alert)
    assert again.facts == first.facts and again.results == first.results


def test_a_locked_door_during_an_alert_opens_a_case_and_the_next_report_joins_it() -> None:
    near = {"role": Role.RESIDENT, "actor": "resident", "lat": 50.451, "lon": 30.52}
    batch = [core.Item(shelter_id=1, kind=ObservationKind.LOCKED, reporter="d:a", **near),
             core.Item(shelter_id=1, kind=ObservationKind.LOCKED, reporter="d:b", **near),
             core.Item(shelter_id=404, kind=ObservationKind.LOCKED, reporter="d:c", **near)]
    outcome = core.decide(known(alert=True), batch, now=NOW, ids=iter(["KV-A", "KV-B"]))
    first, second, missing = outcome.results
    assert isinstance(first, core.Intake) and isinstance(second, core.Intake)
    assert first.incident is not None and first.incident.tracking_id == "KV-A"
    assert second.incident is not None and second.incident.me_too == 1
    assert missing == core.NoSuchShelter(404)
    assert [c.id for c in outcome.opened] == [1] and not outcome.changed
    assert outcome.after.open_cases[1].me_too == 1
