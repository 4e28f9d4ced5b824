"""What an SMS answers, short (every part costs), in the language the resident wrote in."""

from __future__ import annotations

import re
from typing import Any

from shelterwatch.channels import texts
from shelterwatch.channels.sms.addresses import Place
from shelterwatch.messages.catalogue import Renderer

_CITY = re.compile(r"^\s*м\.?\s*київ\s*,\s*", re.IGNORECASE)

def language_of(text: str) -> str:
    """Latin letters in the command word: English; otherwise Ukrainian."""
    word = text.strip().split(" ", 1)[0]
    return "en" if word.isascii() and any(c.isalpha() for c in word) else "uk"


def short_address(address: str) -> str:
    return _CITY.sub("", address or "").strip()


def nearest(answer: dict[str, Any], place: Place, lang: str) -> str:
    """The nearest shelters in one message: where, state, minutes on foot, in time or not."""
    results = answer.get("results") or []
    where = short_address(place.address)
    if not results:
        return texts.t("none", lang)
    words = Renderer(lang)
    lines = [words("sms.line", {
        "n": n, "address": short_address(r["shelter"]["properties"].get("address") or ""),
        "id": r["shelter"]["properties"]["id"], "status": texts.status_text(r["status"], lang),
        "minutes": texts.minutes(r["walk_s"]),
        "late": words("sms.late") if r["reachable_in_time"] is False else ""})
        for n, r in enumerate(results, start=1)]
    return words("sms.nearest" if place.exact else "sms.near",
                 {"where": where, "lines": "; ".join(lines)})


def receipt(body: dict[str, Any], lang: str, instead: dict[str, Any] | None) -> str:
    """The web receipt's words (tracking id, what happens next), with the other shelter to go
    to written out where the web page points at its map."""
    return f"{body['tracking_id']}: {texts.next_steps(body, lang, instead, short=True)}"


def help_text(lang: str) -> str:
    """What the service understands, for a message it could not read."""
    return Renderer(lang)("sms.help")


def not_found(address: str, lang: str) -> str:
    return Renderer(lang)("sms.not_found", {"address": address})


def several(place: Place, lang: str) -> str:
    ids = ", ".join(f"#{i}" for i in place.shelter_ids)
    return Renderer(lang)("sms.several", {"address": short_address(place.address), "ids": ids})


def failed(detail: str, lang: str) -> str:
    return texts.t("report_failed", lang, detail=detail)


def stopped(lang: str) -> str:
    return Renderer(lang)("sms.stopped")
