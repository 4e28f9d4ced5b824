"""How an SMS is cut into parts, as the network carries it.

A part holds 160 GSM-7 characters (140 bytes of 7-bit septets) or, when any character is outside
GSM-7 (Ukrainian letters are), 70 UCS-2 code units. A longer text is sent as concatenated parts,
each losing room to the header that joins them: 153 GSM-7 or 67 UCS-2. A character from GSM-7's
extension table (`€`, `[`, `|` …) takes two septets and the pair is never split; neither is a
UTF-16 surrogate pair. Parts break after a space where one is near, so words arrive whole.
"""

from __future__ import annotations

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
