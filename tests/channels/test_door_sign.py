"""The printable door sign: the shelter's number, the SMS to send and QR codes, public only."""

from __future__ import annotations

from xml.etree import ElementTree

import segno

from tests.channels.conftest import Town
from tests.channels.test_telegram import clinic


def test_the_door_sign_prints_the_sms_syntax_and_qr_codes_for_this_shelter(
        town: Town) -> None:
    door = clinic(town)
    town.settings.sms_inbound_number = "7171"
    town.settings.telegram_bot_username = "shelterwatch_kyiv_bot"
    response = town.client.get(f"/v1/shelters/{door.id}/sign.svg")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    svg = ElementTree.fromstring(response.text)  # well-formed, printable
    words = " ".join(t.text or "" for t in svg.iter("{http://www.w3.org/2000/svg}text"))
    assert f"ЗАЧИНЕНО {door.id}   на 7171" in words and f"LOCKED {door.id}   to 7171" in words
    assert "вул. Курчатова, 18-А" in words
    # the QR codes encode the page and the bot's deep link for this very shelter
    paths = [p.get("d") for p in svg.iter("{http://www.w3.org/2000/svg}path")]
    for url in (f"{town.settings.public_base_url}/?shelter={door.id}",
                f"https://t.me/shelterwatch_kyiv_bot?start=s{door.id}"):
        expected = segno.make(url, error="m").svg_inline(scale=1, border=0)
        assert any(d and f'd="{d}"' in expected for d in paths), url


def test_no_sign_for_a_shelter_that_does_not_exist(town: Town) -> None:
    missing = town.client.get("/v1/shelters/99999999/sign.svg")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
