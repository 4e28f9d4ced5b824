"""Tracking ids residents read aloud and type back."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from shelterwatch.rules import tracking


def test_tracking_id_looks_like_the_receipt_example() -> None:
    tid = tracking.encode("KV", 123_456)
    assert len(tid) == len("KV-7F3K-2Q")
    assert tid[2] == "-" and tid[7] == "-"
    assert tracking.parse(tid) == tid


@given(st.integers(min_value=0, max_value=tracking.SPACE - 1))
def test_sloppy_typing_is_understood(number: int) -> None:
    tid = tracking.encode("KV", number)
    sloppy = tid.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert tracking.parse(sloppy) == tid


@given(st.integers(min_value=0, max_value=tracking.SPACE - 1), st.integers(0, 5),
       st.sampled_from(tracking.ALPHABET))
def test_one_mistyped_character_is_caught(number: int, pos: int, char: str) -> None:
    code = tracking.encode("KV", number).replace("-", "")[2:]
    assume(code[pos] != char)
    typo = code[:pos] + char + code[pos + 1:]
    assert tracking.parse("KV" + typo) is None


@given(st.integers(min_value=0, max_value=tracking.SPACE - 1), st.integers(0, 4))
def test_swapped_neighbours_are_caught(number: int, pos: int) -> None:
    code = tracking.encode("KV", number).replace("-", "")[2:]
    assume(code[pos] != code[pos + 1])
    swapped = code[:pos] + code[pos + 1] + code[pos] + code[pos + 2:]
    assert tracking.parse("KV" + swapped) is None


@pytest.mark.parametrize("text", ["", "KV", "KV-7F3K", "KV-7F3K-2Q-99", "KV-UUUU-UU", "12-3456-78"])
def test_garbage_is_not_an_id(text: str) -> None:
    assert tracking.parse(text) is None


@given(st.text(alphabet=tracking.ALPHABET, min_size=tracking.BODY_LENGTH,
               max_size=tracking.BODY_LENGTH))
def test_ids_already_given_out_keep_their_check_character(body: str) -> None:
    # The check as first defined: each value times alpha^position in GF(32), summed; the table
    # that replaced the multiplications must give every stored id the same character.
    total, power = 0, 2
    for char in reversed(body):
        total ^= tracking._gf_mul(tracking.ALPHABET.index(char), power)
        power = tracking._times_alpha(power)
    assert tracking.check_char(body) == tracking.ALPHABET[total]
    assert tracking.encode("KV", 123_456) == "KV-03RJ-09"  # as the first version made them
    assert tracking.encode("KV", tracking.SPACE - 1) == "KV-ZZZZ-Z1"
