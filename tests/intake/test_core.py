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


def known(*, alert: bool) -> core.Batch:
    """What a batch knows of a city with three shelters and no evidence yet."""
    return core.Batch(next_seq=101, head=(100, "0" * 64), shelters=dict(SHELTERS),
                      spans=[ALERT] if alert else [], alerts=[ALERT] if alert else [],
                      ancestors=dict(ANCESTORS), open_incidents={}, evidence={}, statuses={},
                      next_incident_id=1)


items = st.builds(
    core.Item,
    shelter_id=st.sampled_from(sorted(SHELTERS)),
    kind=st.sampled_from(ObservationKind),
    role=st.sampled_from([Role.RESIDENT, Role.RESIDENT, Role.KEYHOLDER, Role.PATROL, Role.DOOR]),
    reporter=st.sampled_from(["d:a", "d:b", "d:c", "patrol-7", ""]),
    actor=st.just("test"),
    lat=st.sampled_from([None, 50.451, 50.6]),
    lon=st.just(30.52),
)


def _taken(state: core.Batch, batch: list[core.Item], ids: list[str]) -> list[str]:
    return [core.take(state, item, state.shelters[item.shelter_id], tid, NOW).decision.action
            for item, tid in zip(batch, ids, strict=True)]


def _what_was_written(state: core.Batch) -> dict[str, Any]:
    return {
        "facts": [(f.kind, f.actor, f.payload, f.private) for f in state.facts],
        "observations": state.observation_rows,
        "incidents": sorted((i.id, i.shelter_id, i.me_too, i.resolution, i.resolved_by)
                            for i in state.incidents_written()),
    }


@given(st.lists(items, min_size=1, max_size=12), st.booleans())
def test_one_by_one_equals_as_a_batch(batch: list[core.Item], alert: bool) -> None:
    ids = [f"KV-{n:04d}-00" for n in range(len(batch))]
    together = known(alert=alert)
    actions = _taken(together, batch, ids)

    alone = known(alert=alert)
    written: dict[str, Any] = {"facts": [], "observations": [], "incidents": {}}
    one_by_one = []
    for item, tid in zip(batch, ids, strict=True):
        one_by_one += _taken(alone, [item], [tid])
        step = _what_was_written(alone)
        written["facts"] += step["facts"]
        written["observations"] += step["observations"]
        written["incidents"].update({i[0]: i for i in step["incidents"]})
        alone = alone.following(NOW)  # the next observation starts from what was stored

    assert one_by_one == actions
    as_batch = _what_was_written(together)
    assert written["facts"] == as_batch["facts"]
    assert written["observations"] == as_batch["observations"]
    assert sorted(written["incidents"].values()) == as_batch["incidents"]
    assert alone.next_seq == together.next_seq
