"""Tracking ids a resident can read aloud, type on a phone and not get wrong: `KV-7F3K-2Q`.

Crockford's base-32 alphabet leaves out I, L, O and U, so nothing looks like a digit or spells a
word; a reader who types `o` or `l` anyway is understood. The last character is a check over the
others computed in the field GF(32) (each character times a power of a primitive element), which
catches every single mistyped character and every swap of two neighbours — Luhn mod 32 misses the
swap of 0 and Z — so a mistyped id says "no such id" rather than showing a stranger's case.
"""

from __future__ import annotations

import re

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BASE = len(ALPHABET)
BODY_LENGTH = 5  # random characters; with the check character a code reads like 7F3K-2Q
SPACE = BASE**BODY_LENGTH  # 33,554,432 ids per prefix
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_PREFIX = re.compile(r"^[A-Z]{1,4}$")


_POLY = 0b100101  # x^5 + x^2 + 1, primitive over GF(2)


def _times_alpha(value: int) -> int:
    value <<= 1
    return value ^ _POLY if value & BASE else value


def _gf_mul(a: int, b: int) -> int:
    product = 0
    while b:
        if b & 1:
            product ^= a
        a = _times_alpha(a)
        b >>= 1
    return product


# Each character's value times alpha^position, per position from the last (position 1): looked
# up, not multiplied, as every new report's tracking id needs its check character.
_TERMS: list[dict[str, int]] = []
_power = 2  # alpha^1; the check character itself sits at alpha^0 = 1
for _ in range(BODY_LENGTH):
    _TERMS.append({c: _gf_mul(v, _power) for c, v in _VALUE.items()})
    _power = _times_alpha(_power)


def check_char(body: str) -> str:
    """The check character for `body` (BODY_LENGTH characters): sum of value × alpha^position in
    GF(32), position 1 last."""
    total = 0
    for terms, char in zip(_TERMS, reversed(body), strict=True):
        total ^= terms[char]
    return ALPHABET[total]


def encode(prefix: str, number: int) -> str:
    """The tracking id for `number` in [0, SPACE) under `prefix` (letters, e.g. the city's "KV")."""
    if not _PREFIX.match(prefix):
        raise ValueError(f"tracking prefix must be 1-4 letters A-Z, got {prefix!r}")
    if not 0 <= number < SPACE:
        raise ValueError(f"tracking number must be in [0, {SPACE}), got {number}")
    chars = []
    for _ in range(BODY_LENGTH):
        number, digit = divmod(number, BASE)
        chars.append(ALPHABET[digit])
    body = "".join(reversed(chars))
    code = body + check_char(body)
    return f"{prefix}-{code[:4]}-{code[4:]}"


def parse(text: str) -> str | None:
    """The canonical id a person meant, or None when it cannot be one (bad check character)."""
    cleaned = re.sub(r"[\s\-_.]", "", text.upper())
    match = re.match(r"^([A-Z]{1,4}?)([0-9A-Z]{6})$", cleaned)
    if match is None:
        return None
    prefix, code = match.group(1), match.group(2).translate(_LOOKALIKES)
    if any(c not in _VALUE for c in code):
        return None
    body, check = code[:-1], code[-1]
    if check_char(body) != check:
        return None
    return f"{prefix}-{code[:4]}-{code[4:]}"
