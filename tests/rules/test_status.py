"""The status engine, through the scenarios residents live through and its promised properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shelterwatch.messages.status import explain
from shelterwatch.rules.status import Derived, Evidence, derive, plausibility
from shelterwatch.vocabulary import ObservationKind as K
from shelterwatch.vocabulary import Reason, ReasonCode
from shelterwatch.vocabulary import Role as R
from shelterwatch.vocabulary import Status as S

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)  # 14:00 in Kyiv


def words(derived: Derived, lang: str) -> str:
    """The explanation a resident reads, worded by the catalogue as the API words it."""
    return explain(derived.status, derived.reasons, lang, reference=NOW)


def ev(n: int, kind: K, role: R = R.RESIDENT, *, ago_s: float = 60, reporter: str | None = None,
       distance_m: float | None = 20.0, reason: str = "") -> Evidence:
    return Evidence(id=f"o{n}", kind=kind, role=role, at=NOW - timedelta(seconds=ago_s),
                    reporter=f"d{n}" if reporter is None else reporter,
                    distance_m=distance_m, reason=reason)


SCENARIOS = [
    ("nobody has looked yet", [], S.UNKNOWN),
    ("one neighbour at the door says open", [ev(1, K.OPEN)], S.OPEN_REPORTED),
    ("one resident says locked", [ev(1, K.LOCKED)], S.LOCKED_REPORTED),
    ("two residents say locked", [ev(1, K.LOCKED), ev(2, K.LOCKED)], S.LOCKED_CONFIRMED),
    ("one phone says locked ten times",
     [ev(i, K.LOCKED, reporter="same", ago_s=10 * i) for i in range(10)], S.LOCKED_REPORTED),
    ("anonymous reports share one voice",
     [ev(i, K.LOCKED, reporter="") for i in range(5)], S.LOCKED_REPORTED),
    ("keyholder opened the door", [ev(1, K.OPEN, R.KEYHOLDER)], S.OPEN_VERIFIED),
    ("keyholder open, then one resident says locked",
     [ev(1, K.OPEN, R.KEYHOLDER, ago_s=300), ev(2, K.LOCKED, ago_s=60)], S.OPEN_VERIFIED),
    ("keyholder open, then three residents at the door say locked",
     [ev(1, K.OPEN, R.KEYHOLDER, ago_s=300)] + [ev(i, K.LOCKED) for i in (2, 3, 4)],
     S.LOCKED_CONFIRMED),
    ("residents said locked, then the keyholder opened",
     [ev(i, K.LOCKED, ago_s=600) for i in range(1, 6)] + [ev(9, K.OPEN, R.KEYHOLDER)],
     S.OPEN_VERIFIED),
    ("rescuers forced the door", [ev(1, K.LOCKED), ev(2, K.LOCKED),
                                  ev(3, K.FORCED_OPEN, R.PATROL, ago_s=10)], S.FORCED_OPEN),
    ("door controller reports open", [ev(1, K.OPEN, R.DOOR, reporter="door-7")], S.OPEN_VERIFIED),
    ("patrol finds it locked", [ev(1, K.LOCKED, R.PATROL)], S.LOCKED_CONFIRMED),
    ("residents say it is full", [ev(1, K.FULL), ev(2, K.FULL)], S.FULL),
    ("resident says unfit: flooded", [ev(1, K.UNFIT, reason="flooded")], S.UNFIT),
    ("residents say there is no shelter: still on the map",
     [ev(i, K.MISSING) for i in range(1, 9)], S.UNKNOWN),
    ("patrol says there is no shelter", [ev(1, K.MISSING, R.PATROL)], S.CLOSED),
    ("a locked report from across the city barely counts",
     [ev(1, K.LOCKED, distance_m=15_000)], S.UNKNOWN),
    ("a locked report from yesterday has faded", [ev(1, K.LOCKED, ago_s=86_400)], S.UNKNOWN),
    ("an old locked and a fresh open: the fresh word wins",
     [ev(1, K.LOCKED, ago_s=7200), ev(2, K.OPEN)], S.OPEN_REPORTED),
    ("a keyholder's open from two days ago no longer verifies",
     [ev(1, K.OPEN, R.KEYHOLDER, ago_s=2 * 86_400)], S.UNKNOWN),
    ("an observation from the future is ignored", [ev(1, K.LOCKED, ago_s=-60)], S.UNKNOWN),
]


@pytest.mark.parametrize(("story", "evidence", "expected"), SCENARIOS,
                         ids=[s[0] for s in SCENARIOS])
def test_residents_scenarios(story: str, evidence: list[Evidence], expected: S) -> None:
    assert derive(evidence, now=NOW).status is expected, story


def test_explanation_names_the_keyholder_and_the_contrary_reports_in_both_languages() -> None:
    result = derive([ev(1, K.OPEN, R.KEYHOLDER, ago_s=300), ev(2, K.LOCKED)], now=NOW)
    assert words(result, "en") == (
        "Open, verified: keyholder recorded open at 13:55; since then 1 resident reported "
        "locked, latest at 13:59; not yet enough to change the status.")
    assert words(result, "uk").startswith("Відчинено, підтверджено: ключник зафіксував")
    assert "1 мешканець повідомив «зачинено»" in words(result, "uk")
    assert result.observation_ids == ("o1", "o2")


def test_crowd_overturning_a_keyholder_says_so() -> None:
    result = derive([ev(1, K.OPEN, R.KEYHOLDER, ago_s=300)] + [ev(i, K.LOCKED) for i in (2, 3, 4)],
                    now=NOW)
    assert "3 residents reported locked" in words(result, "en")
    assert "outweighs the earlier keyholder recorded open" in words(result, "en")
    assert "3 мешканці повідомили «зачинено»" in words(result, "uk")
    assert result.observation_ids == ("o1", "o2", "o3", "o4")


def test_confidence_grows_with_agreeing_residents() -> None:
    one = derive([ev(1, K.LOCKED)], now=NOW).confidence
    three = derive([ev(i, K.LOCKED) for i in (1, 2, 3)], now=NOW).confidence
    assert 0 < one < three <= 0.95


def test_far_reports_count_less() -> None:
    assert plausibility(50) == 1.0
    assert plausibility(3000) < plausibility(1000) < 1.0
    assert plausibility(None) < 1.0


kinds = st.sampled_from(list(K))
resident_kinds = st.sampled_from([k for k in K if k is not K.FORCED_OPEN])
ages = st.floats(min_value=0, max_value=6 * 3600)
distances = st.one_of(st.none(), st.floats(min_value=0, max_value=50_000))


@st.composite
def resident_reports(draw: st.DrawFn, reporter: str | None = None) -> list[Evidence]:
    n = draw(st.integers(min_value=0, max_value=25))
    return [Evidence(id=f"r{i}", kind=draw(resident_kinds), role=R.RESIDENT,
                     at=NOW - timedelta(seconds=draw(ages)),
                     reporter=reporter if reporter is not None else draw(st.sampled_from(
                         ["a", "b", "c", "d", ""])),
                     distance_m=draw(distances)) for i in range(n)]


@given(resident_reports(reporter="one-phone"))
def test_one_device_alone_never_confirms_locked(reports: list[Evidence]) -> None:
    assert derive(reports, now=NOW).status is not S.LOCKED_CONFIRMED


@given(resident_reports(), st.floats(min_value=0, max_value=11 * 3600),
       st.sampled_from([R.KEYHOLDER, R.PATROL, R.DOOR]))
def test_authoritative_open_after_residents_locked_is_verified(
        reports: list[Evidence], later_s: float, role: R) -> None:
    locked = [Evidence(r.id, K.LOCKED, r.role, r.at, r.reporter, r.distance_m) for r in reports]
    newest = max((r.at for r in locked), default=NOW - timedelta(hours=1))
    opened = Evidence("auth", K.OPEN, role, newest + timedelta(seconds=1), "token-1")
    now = opened.at + timedelta(seconds=later_s)
    result = derive([*locked, opened], now=now)
    assert result.status is S.OPEN_VERIFIED
    assert "auth" in result.observation_ids


@given(resident_reports(), st.randoms(use_true_random=False))
def test_status_depends_only_on_the_facts_and_now(reports: list[Evidence], rnd) -> None:
    shuffled = list(reports)
    rnd.shuffle(shuffled)
    assert derive(reports, now=NOW) == derive(shuffled, now=NOW)
    # Evidence from after `now` cannot change the answer at `now`.
    future = Evidence("later", K.OPEN, R.KEYHOLDER, NOW + timedelta(seconds=1), "k")
    assert derive([*reports, future], now=NOW) == derive(reports, now=NOW)


@given(st.lists(st.tuples(st.sampled_from(["d:a", "d:b", "d:c", "n:x"]),
                          st.sampled_from([K.LOCKED, K.OPEN, K.FULL]),
                          st.integers(0, 300), st.booleans()), max_size=12))
def test_evidence_set_aside_weighs_nothing_and_is_counted_in_the_explanation(
        drawn: list[tuple[str, K, int, bool]]) -> None:
    items = [Evidence(f"o{n}", kind, R.RESIDENT, NOW - timedelta(minutes=age), reporter=who,
                      distance_m=10.0, set_aside=aside)
             for n, (who, kind, age, aside) in enumerate(drawn)]
    kept = [e for e in items if not e.set_aside]
    with_aside, without = derive(items, now=NOW), derive(kept, now=NOW)
    assert (with_aside.status, with_aside.confidence, with_aside.observation_ids) == (
        without.status, without.confidence, without.observation_ids)
    aside = {e.reporter for e in items if e.set_aside}
    if aside:
        assert with_aside.reasons == (
            *without.reasons, Reason.of(ReasonCode.SET_ASIDE, reporters=len(aside)))
    else:
        assert with_aside == without
