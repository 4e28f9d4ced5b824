"""SMS for push-button phones: what a text asks for, and how an answer is cut into parts.

A part holds 160 GSM-7 characters (140 bytes of 7-bit septets) or, when any character is outside
GSM-7 (Ukrainian letters are), 70 UCS-2 code units. A longer text is sent as concatenated parts,
each losing room to the header that joins them: 153 GSM-7 or 67 UCS-2. A character from GSM-7's
extension table (`€`, `[`, `|` …) takes two septets and the pair is never split; neither is a
UTF-16 surrogate pair. Parts break after a space where one is near, so words arrive whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

# GSM 03.38 basic character set (the default alphabet) and its extension table.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
) - {"\x1b"}
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

SINGLE = {"gsm7": 160, "ucs2": 70}
MULTI = {"gsm7": 153, "ucs2": 67}
MAX_PARTS = 8  # gateways refuse more; a longer answer is cut at the last whole part


def encoding(text: str) -> str:
    """"gsm7" when every character is in GSM-7 (basic or extension), else "ucs2"."""
    return "gsm7" if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text) else "ucs2"


def _units(char: str, enc: str) -> int:
    if enc == "gsm7":
        return 2 if char in GSM7_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1  # a surrogate pair in UTF-16


def length(text: str, enc: str | None = None) -> int:
    """Septets (GSM-7) or UTF-16 code units (UCS-2) the text takes."""
    enc = enc or encoding(text)
    return sum(_units(c, enc) for c in text)


def split(text: str) -> list[str]:
    """The parts a gateway sends; one part when it fits whole, else parts of 153 / 67 units."""
    enc = encoding(text)
    if length(text, enc) <= SINGLE[enc]:
        return [text] if text else []
    room = MULTI[enc]
    parts: list[str] = []
    start = 0
    while start < len(text) and len(parts) < MAX_PARTS:
        used, end, last_space = 0, start, -1
        while end < len(text) and used + _units(text[end], enc) <= room:
            used += _units(text[end], enc)
            if text[end] == " ":
                last_space = end
            end += 1
        if end < len(text) and last_space > start + room // 2:
            end = last_space + 1  # break after the space; the word goes whole to the next part
        parts.append(text[start:end])
        start = end
    return parts


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
    text = re.sub(r"[,.;]", " ", text)
    match = re.search(r"(\d+)\s*[-/]?\s*([а-яєіїґa-z]?)(?:\s*[-/]\s*\d+)?\s*$", text.strip())
    house = ""
    if match:
        house = match.group(1) + match.group(2)
        text = text[: match.start()]
    street = " ".join(w for w in _SPACE.split(text) if w and not w.isdigit())
    return street, house


def house_number(house: str) -> int | None:
    """The leading number of a house (`18а` → 18), to find the nearest house on a street."""
    digits = re.match(r"\d+", house)
    return int(digits.group()) if digits else None
