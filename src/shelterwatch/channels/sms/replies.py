"""What an SMS answers, short (every part costs), in the language the resident wrote in."""

from __future__ import annotations

import re
from typing import Any

from shelterwatch.channels import texts
from shelterwatch.channels.sms.addresses import Place

_CITY = re.compile(r"^\s*м\.?\s*київ\s*,\s*", re.IGNORECASE)

HELP = {
    "uk": ("Укриття: надішліть ЗАЧИНЕНО <номер з таблички> (або ПОВНЕ, НЕПРИДАТНЕ, НЕМАЄ, "
           "ВІДМОВИЛИ) чи НАЙБЛИЖЧЕ <вулиця, будинок>. СТОП - без сповіщень."),
    "en": ("Shelters: send LOCKED <number on the sign> (or FULL, UNFIT, MISSING, REFUSED) or "
           "NEAREST <street, house>. STOP ends updates."),
}


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
    lines = []
    for n, r in enumerate(results, start=1):
        props = r["shelter"]["properties"]
        walk = texts.minutes(r["walk_s"])
        late = r["reachable_in_time"] is False
        late_text = (" НЕ встигнете" if lang == "uk" else " NOT in time") if late else ""
        unit = "хв" if lang == "uk" else "min"
        lines.append(f"{n}) {short_address(props.get('address') or '')} #{props['id']} "
                     f"{texts.status_text(r['status'], lang)}, {walk} {unit}{late_text}")
    if lang == "en":
        head = f"Nearest to {where}" if place.exact else f"Near {where} (closest house found)"
    else:
        head = f"Найближчі до {where}" if place.exact else f"Біля {where} (найближчий будинок)"
    return f"{head}: " + "; ".join(lines)


def receipt(body: dict[str, Any], lang: str, instead: dict[str, Any] | None) -> str:
    """The web receipt's words (tracking id, what happens next), with the other shelter to go
    to written out where the web page points at its map."""
    return f"{body['tracking_id']}: {texts.next_steps(body, lang, instead, short=True)}"


def not_found(address: str, lang: str) -> str:
    if lang == "en":
        return f"Address not found: {address}. Example: NEAREST Kurchatova 18"
    return f"Адресу не знайдено: {address}. Приклад: НАЙБЛИЖЧЕ Курчатова 18"


def several(place: Place, lang: str) -> str:
    ids = ", ".join(f"#{i}" for i in place.shelter_ids)
    if lang == "en":
        return (f"Several shelters at {short_address(place.address)}: {ids}. "
                "Send the number from the sign, e.g. LOCKED 1180.")
    return (f"За адресою {short_address(place.address)} кілька укриттів: {ids}. "
            "Надішліть номер з таблички, напр. ЗАЧИНЕНО 1180")


def failed(detail: str, lang: str) -> str:
    return texts.t("report_failed", lang, detail=detail)


def stopped(lang: str) -> str:
    return "Updates stopped." if lang == "en" else "Сповіщення вимкнено."
