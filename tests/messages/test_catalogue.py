"""The message catalogue: every code worded in both languages, plurals by each language's rules,
and rewording a sentence changes no fact."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shelterwatch.intake import core
from shelterwatch.messages import catalogue
from shelterwatch.messages import status as wording
from shelterwatch.rules import status as rules
from shelterwatch.vocabulary import ObservationKind, Reason, ReasonCode, Role, Status
from tests.intake.test_core import NOW, items, known

SAMPLE: dict[ReasonCode, dict[str, Any]] = {
    ReasonCode.CROWD_REPORTED: {"kind": "locked", "residents": 2, "auditors": 1,
                                "latest_at": "2023-06-01T00:25:00+00:00", "reason": "flooded"},
    ReasonCode.CROWD_SINCE: {"kind": "open", "residents": 1, "auditors": 0,
                             "latest_at": "2023-06-01T00:25:00+00:00", "reason": ""},
    ReasonCode.OUTWEIGHS: {"role": "keyholder", "kind": "open", "at": "2023-06-01T00:05:00+00:00"},
    ReasonCode.RECORDED: {"role": "patrol", "kind": "forced_open",
                          "at": "2023-05-31T20:05:00+00:00"},
    ReasonCode.UNFIT_REASON: {"reason": "flooded"},
    ReasonCode.STATUS: {"status": "full"},
    ReasonCode.WALK: {"minutes": 4},
    ReasonCode.CAPACITY: {"capacity": 300},
    ReasonCode.READINESS: {"category": "not_ready", "items_uk": "немає води",
                           "items_en": "no water"},
    ReasonCode.SET_ASIDE: {"reporters": 3},
}


@pytest.mark.parametrize(("n", "word"), [
    (1, "1 мешканець повідомив"), (2, "2 мешканці повідомили"), (4, "4 мешканці повідомили"),
    (5, "5 мешканців повідомили"), (11, "11 мешканців повідомили"),
    (12, "12 мешканців повідомили"), (21, "21 мешканець повідомив"),
    (22, "22 мешканці повідомили"), (25, "25 мешканців повідомили"),
    (111, "111 мешканців повідомили"), (0, "0 мешканців повідомили"),
])
def test_ukrainian_counts_take_their_three_forms(n: int, word: str) -> None:
    assert catalogue.plural("residents", n, "uk") == word


def test_english_counts_take_two_forms() -> None:
    assert catalogue.plural("residents", 1, "en") == "1 resident"
    assert catalogue.plural("residents", 21, "en") == "21 residents"


@pytest.mark.parametrize("code", list(ReasonCode))
@pytest.mark.parametrize("lang", catalogue.LANGS)
def test_every_reason_code_is_worded_in_both_languages(code: ReasonCode, lang: str) -> None:
    text = wording.reason_text(Reason.of(code, **SAMPLE.get(code, {})),
                               catalogue.Renderer(lang, reference=NOW))
    assert text and "{" not in text and "}" not in text


def test_every_status_has_a_headline_in_both_languages() -> None:
    shown = wording.headlines()
    assert set(shown) == {s.value for s in Status}
    assert all(shown[s]["uk"] and shown[s]["en"] and shown[s]["uk"] != shown[s]["en"]
               for s in shown)


def test_a_time_on_another_day_shows_its_date() -> None:
    reason = Reason.of(ReasonCode.RECORDED, **SAMPLE[ReasonCode.RECORDED])
    later = wording.explain(Status.FORCED_OPEN, [reason], "en",
                            reference=datetime(2023, 6, 1, 12, tzinfo=UTC))
    same_day = wording.explain(Status.FORCED_OPEN, [reason], "en",
                               reference=datetime(2023, 5, 31, 18, tzinfo=UTC))
    assert later == "Forced open by rescuers: patrol recorded forced open at 31.05 23:05."
    assert same_day == "Forced open by rescuers: patrol recorded forced open at 23:05."


def _reworded() -> dict[str, Any]:
    """The catalogue with every sentence and term said differently, placeholders kept."""
    changed = copy.deepcopy(catalogue.data())

    def reword(node: Any) -> Any:
        if isinstance(node, str):
            return "‹" + re.sub(r"[a-zа-яії]+", lambda m: m.group(0)[::-1], node) + "›"
        if isinstance(node, dict):
            return {k: reword(v) for k, v in node.items()}
        return node

    changed["term"] = reword(changed["term"])
    changed["message"] = {k: {lang: "‹" + v + "›" for lang, v in text.items()}
                          for k, text in changed["message"].items()}
    changed["plural"] = reword(changed["plural"])
    return changed


def _decided(batch: list[core.Item], alert: bool) -> list[tuple[Any, ...]]:
    state = known(alert=alert)
    facts: list[tuple[Any, ...]] = []
    for n, item in enumerate(batch):
        at = NOW + timedelta(minutes=7 * n)
        outcome = core.decide(state, [item], now=at, ids=iter([f"KV-{n:04d}-00"]))
        facts += [(f.kind, f.actor, f.payload, f.private) for f in outcome.facts]
        state = outcome.after
    return facts


@given(st.lists(items, min_size=1, max_size=10), st.booleans())
def test_rewording_the_catalogue_changes_no_appended_fact(batch: list[core.Item],
                                                           alert: bool) -> None:
    before = _decided(batch, alert)
    original = catalogue.data
    reworded = _reworded()
    catalogue.data = lambda: reworded  # type: ignore[assignment]
    try:
        after = _decided(batch, alert)
        derived = rules.derive([rules.Evidence("x", ObservationKind.LOCKED, Role.RESIDENT, NOW)],
                               now=NOW)
        worded = wording.explain(derived.status, derived.reasons, "en", reference=NOW)
    finally:
        catalogue.data = original  # type: ignore[method-assign]
    assert worded.startswith("‹")  # the reworded catalogue was the one in use
    assert after == before
