"""The page reads its shared words from the message catalogue, served by the app, offline too."""

from __future__ import annotations

import re
from importlib.resources import files

import orjson
from fastapi.testclient import TestClient

from shelterwatch.messages import catalogue


def test_the_catalogue_is_served_before_the_page_words_and_kept_offline(
        kyiv_client: TestClient) -> None:
    script = kyiv_client.get("/static/catalogue.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    prefix = b"self.CATALOGUE = "
    assert script.content.startswith(prefix)
    shared = orjson.loads(script.content[len(prefix):].rstrip(b";\n"))
    assert shared["term"] == catalogue.data()["term"]
    assert shared["plural"]["reports"]["uk"]["many"] == "{n} повідомлень"
    for page in ("/", "/t/KV-0000-00"):
        html = kyiv_client.get(page).text
        assert html.index("/static/catalogue.js") < html.index("/static/i18n.js")
    assert '"/static/catalogue.js"' in kyiv_client.get("/sw.js").text


def test_the_pages_are_served_worded_from_the_catalogue_and_their_templates_hold_no_words(
        kyiv_client: TestClient) -> None:
    words = catalogue.Renderer("uk")
    for page, template in (("/", "index.html"), ("/t/KV-0000-00", "track.html")):
        html = kyiv_client.get(page).text
        marked = re.findall(r'data-i18n="(\w+)"[^<>]*>([^<]*)<', html)
        assert len(marked) >= 7
        assert all(text == words(f"page.{key}") for key, text in marked), marked
        source = (files("shelterwatch.web") / "templates" / template).read_text("utf-8")
        assert re.findall(r"[\u0400-\u04ff]+", source) == []
    home = kyiv_client.get("/").text
    assert f'placeholder="{words("page.searchPlaceholder")}"' in home
    assert f'aria-label="{words("page.mapLabel")}"' in home
    assert "<title>Найближче укриття · Nearest shelter</title>" in home
