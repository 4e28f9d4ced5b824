"""What a resident's SMS asks for, and how an answer is cut into parts."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shelterwatch.notify import gsm
from shelterwatch.rules import sms
from shelterwatch.rules.sms import Command


def test_a_ukrainian_answer_is_cut_into_ucs2_parts_of_67() -> None:
    text = ("KV-7F3K-2Q: Випадок KV-7F3K-2Q відкрито. Ключника, патруль і оператора сповіщено "
            "зараз. Не чекайте біля дверей: ідіть до вул. Курчатова, 18/1 #1181 (відчинено, 2 хв).")
    assert gsm.encoding(text) == "ucs2" and len(text) > 70
    parts = gsm.split(text)
    assert "".join(parts) == text
    assert all(gsm.length(p, "ucs2") <= 67 for p in parts)
    assert len(parts) == -(-len(text) // 67) or len(parts) == -(-len(text) // 67) + 1
    assert all(p.endswith(" ") for p in parts[:-1])  # words arrive whole


def test_short_texts_take_one_part_of_160_or_70() -> None:
    assert gsm.split("a" * 160) == ["a" * 160]
    assert len(gsm.split("a" * 161)) == 2
    assert gsm.split("ї" * 70) == ["ї" * 70]
    assert [len(p) for p in gsm.split("ї" * 71)] == [67, 4]


def test_gsm7_extension_characters_take_two_septets_and_stay_whole() -> None:
    assert gsm.encoding("price 5€ [ok]") == "gsm7"
    assert gsm.length("€") == 2
    parts = gsm.split("€" * 100)  # 200 septets: two parts, never half an escape
    assert [gsm.length(p, "gsm7") for p in parts] == [152, 48]


@given(st.text(alphabet=st.sampled_from(list("abc XYZ01€[]їєґЇ😀 ,.")), max_size=700))
def test_parts_rebuild_the_text_and_respect_the_limits(text: str) -> None:
    parts = gsm.split(text)
    enc = gsm.encoding(text)
    if gsm.length(text, enc) <= gsm.SINGLE[enc]:
        assert parts == ([text] if text else [])
        return
    assert all(gsm.length(p, enc) <= gsm.MULTI[enc] for p in parts)
    joined = "".join(parts)
    assert text.startswith(joined)  # cut only after MAX_PARTS, never rearranged
    assert joined == text or len(parts) == gsm.MAX_PARTS
    assert all(p for p in parts)


def test_reports_by_number_or_by_the_address_on_the_door_sign() -> None:
    assert sms.parse("ЗАЧИНЕНО 1180") == sms.Parsed(Command.REPORT, "locked", 1180)
    assert sms.parse("  locked  #1180 ") == sms.Parsed(Command.REPORT, "locked", 1180)
    assert sms.parse("Зачинено №1180").shelter_id == 1180
    assert sms.parse("ВІДМОВИЛИ 7").kind == "refused"
    by_address = sms.parse("ЗАЧИНЕНО вул. Курчатова, 18-А")
    assert by_address.command is Command.REPORT and by_address.address == "вул. Курчатова, 18-А"
    assert sms.parse("НАЙБЛИЖЧЕ Курчатова 18") == sms.Parsed(Command.NEAREST,
                                                             address="Курчатова 18")
    assert sms.parse("STOP").command is Command.STOP


@given(st.text(max_size=200))
def test_anything_else_is_a_request_for_help_and_never_an_error(text: str) -> None:
    parsed = sms.parse(text)
    assert parsed.command in set(Command)
    if parsed.command is Command.REPORT:
        assert parsed.shelter_id is not None or parsed.address


def test_the_same_address_however_it_is_typed() -> None:
    key = sms.address_key("м.Київ, вул. Курчатова, 18-А")
    assert key == ("курчатова", "18а")
    assert sms.address_key("Курчатова 18а") == key
    assert sms.address_key("вулиця Курчатова, 18 А") == key
    assert sms.address_key("вул. Курчатова, 18/1") == ("курчатова", "18/1")
    assert sms.address_key("просп. Гонгадзе Георгія, 18-Б") == ("гонгадзе георгія", "18б")
