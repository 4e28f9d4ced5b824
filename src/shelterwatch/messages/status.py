"""A status's reasons worded: the explanation a resident reads under each shelter.

The status rule returns a status and reason codes (`vocabulary.Reason`); this is the one place they
become sentences, for the API, the pack, the stream and the notifications alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from shelterwatch.messages.catalogue import DEFAULT_ZONE, LANGS, Renderer, term
from shelterwatch.vocabulary import Reason, ReasonCode, Status


def headline(status: Status | str, lang: str) -> str:
    """The one headline of a status wherever it is shown: explanations, `why`, the pages."""
    return term("status", str(status), lang)


def headlines() -> dict[str, dict[str, str]]:
    """Every status's headline in both languages, as the pages read them."""
    return {s.value: {lang: headline(s, lang) for lang in LANGS} for s in Status}


def _crowd(words: Renderer, params: Mapping[str, Any]) -> str:
    auditors, residents = int(params["auditors"]), int(params["residents"])
    who = "reason.who_both" if auditors and residents else (
        "reason.who_auditors" if auditors else "reason.who_residents")
    return words("reason.crowd_reported", {**params, "who": words(who, params)})


def reason_text(reason: Reason, words: Renderer) -> str:
    """One reason as a clause."""
    params = dict(reason.params)
    if reason.code is ReasonCode.CROWD_REPORTED:
        return _crowd(words, params)
    if reason.code is ReasonCode.CROWD_SINCE:
        return words("reason.crowd_since", {"crowd": _crowd(words, params)})
    return words(f"reason.{reason.code.value}", params)


def explain(status: Status | str, reasons: Sequence[Reason], lang: str, *,
            reference: datetime | None, zone: str = DEFAULT_ZONE) -> str:
    """The status's headline and its reasons as one sentence in `lang`."""
    words = Renderer(lang, zone=zone, reference=reference)
    head = headline(status, lang)
    if not reasons:
        return words("status.headline_only", {"headline": head})
    parts = words("status.separator").join(reason_text(r, words) for r in reasons)
    return words("status.explanation", {"headline": head, "parts": parts})


def explain_both(status: Status | str, reasons: Iterable[Reason], *,
                 reference: datetime | None, zone: str = DEFAULT_ZONE) -> dict[str, str]:
    items = list(reasons)
    return {lang: explain(status, items, lang, reference=reference, zone=zone) for lang in LANGS}


def why(reasons: Sequence[Reason]) -> dict[str, str]:
    """Why a shelter is offered where it is, one line in each language (a nearest answer)."""
    return dict(_why(tuple(reasons)))


@lru_cache(maxsize=16_384)
def _why(reasons: tuple[Reason, ...]) -> tuple[tuple[str, str], ...]:
    # Worded once per distinct set of reasons: a nearest answer's reasons take few values (a
    # status, whole minutes on foot, a capacity), and wording them was a third of the answer's
    # time. The catalogue is fixed for the process's life, so a cached line never goes stale.
    out: list[tuple[str, str]] = []
    for lang in LANGS:
        words = Renderer(lang)
        out.append((lang, words("why.separator").join(reason_text(r, words) for r in reasons)))
    return tuple(out)


def from_json(items: Iterable[Mapping[str, Any]]) -> tuple[Reason, ...]:
    return tuple(Reason.from_json(dict(item)) for item in items)
