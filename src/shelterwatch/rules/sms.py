"""SMS for push-button phones: what a text asks for (a report, the nearest shelters, stop), and
an address in a form that compares equal however it is typed. Never raises on what people type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Command(StrEnum):
    REPORT = "report"
    NEAREST = "nearest"
    STOP = "stop"
    HELP = "help"


# Words a resident may type, in Ukrainian, English or Latin transliteration, → report kind.
REPORT_WORDS: dict[str, str] = {
    "ЗАЧИНЕНО": "locked", "ЗАКРИТО": "locked", "LOCKED": "locked", "ZACHYNENO": "locked",
    "ZACHINENO": "locked", "ВІДМОВИЛИ": "refused", "REFUSED": "refused", "VIDMOVYLY": "refused",
    "ПОВНЕ": "full", "FULL": "full", "POVNE": "full",
    "НЕПРИДАТНЕ": "unfit", "UNFIT": "unfit", "NEPRYDATNE": "unfit",
    "НЕМАЄ": "missing", "MISSING": "missing", "NEMAIE": "missing", "NEMAE": "missing",
    "ВІДЧИНЕНО": "open", "OPEN": "open", "VIDCHYNENO": "open",
}
NEAREST_WORDS = frozenset({"НАЙБЛИЖЧЕ", "NEAREST", "NAIBLYZHCHE", "NAJBLYZHCHE"})
STOP_WORDS = frozenset({"СТОП", "STOP"})


@dataclass(frozen=True, slots=True)
class Parsed:
    """What an inbound text asks for: a report about a shelter (by id or door-sign address), the
    nearest shelters to an address, an end to updates, or help (anything not understood)."""

    command: Command
    kind: str = ""  # report kind, "refused" included (a refusal is reported as locked)
    shelter_id: int | None = None
    address: str = ""


_SPACE = re.compile(r"\s+")


def parse(text: str) -> Parsed:
    """Read one inbound SMS; never raises, an unknown text is a request for help."""
    words = _SPACE.sub(" ", text.strip()).split(" ", 1)
    head = words[0].upper().rstrip(".,:!") if words and words[0] else ""
    rest = words[1].strip() if len(words) > 1 else ""
    if head in STOP_WORDS and not rest:
        return Parsed(Command.STOP)
    if head in NEAREST_WORDS and rest:
        return Parsed(Command.NEAREST, address=rest)
    if head in REPORT_WORDS and rest:
        ref = rest.lstrip("#№ ").strip()
        if ref.isdigit() and 0 < int(ref) < 2**31:
            return Parsed(Command.REPORT, kind=REPORT_WORDS[head], shelter_id=int(ref))
        if any(c.isalpha() for c in ref):
            return Parsed(Command.REPORT, kind=REPORT_WORDS[head], address=ref)
    return Parsed(Command.HELP)


_STREET_WORDS = re.compile(
    r"\b(м\.?\s*київ|київ|м\.|вулиця|вул\.?|проспект|просп\.?|пр-т|бульвар|бул\.?|б-р|"
    r"провулок|пров\.?|площа|пл\.?|набережна|наб\.?|шосе|узвіз|str\.?|street|st\.?|avenue|"
    r"ave\.?|prosp\.?|vul\.?)(?=\s|,|$|\.)", re.IGNORECASE)


def address_key(address: str) -> tuple[str, str]:
    """(street, house) in a comparable form: no city, no street type, lower case, `18-А` → `18а`.

    "м.Київ, вул. Курчатова, 18-А" and "курчатова 18а" give the same key.
    """
    text = _STREET_WORDS.sub(" ", address.lower().replace("ʼ", "'").replace("’", "'"))
    text = re.sub(r"[,.;]", " ", text).strip()
    match = re.search(r"(\d+)\s*-?\s*([а-яєіїґa-z]?)(?:\s*/\s*(\d+))?\s*$", text)
    house = ""
    if match:  # 18-А → 18а, 18/1 → 18/1 (another building of number 18)
        house = match.group(1) + match.group(2) + (f"/{match.group(3)}" if match.group(3) else "")
        text = text[: match.start()]
    street = " ".join(w for w in _SPACE.split(text) if w and not w.isdigit())
    return street, house


def house_number(house: str) -> int | None:
    """The leading number of a house (`18а` → 18), to find the nearest house on a street."""
    digits = re.match(r"\d+", house)
    return int(digits.group()) if digits else None
