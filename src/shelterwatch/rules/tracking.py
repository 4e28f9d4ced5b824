"""Tracking ids a resident can read aloud, type on a phone and not get wrong: `KV-7F3K-2Q`.

Crockford's base-32 alphabet leaves out I, L, O and U, so nothing looks like a digit or spells a
word; a reader who types `o` or `l` anyway is understood. The last character is a Luhn mod 32 check
over the others, which catches every single mistyped character and every swap of two neighbours, so
a mistyped id says "no such id" rather than showing a stranger's case.
"""

from __future__ import annotations

import re

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BASE = len(ALPHABET)
BODY_LENGTH = 5  # random characters; with the check character the code reads XXXX-XX
SPACE = BASE**BODY_LENGTH  # 33,554,432 ids per prefix
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_PREFIX = re.compile(r"^[A-Z]{1,4}$")


def check_char(body: str) -> str:
    """Luhn mod 32 check character for `body` (characters of ALPHABET)."""
    total = 0
    factor = 2
    for char in reversed(body):
        addend = factor * _VALUE[char]
        total += addend // BASE + addend % BASE
        factor = 1 if factor == 2 else 2
    return ALPHABET[(BASE - total % BASE) % BASE]


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
