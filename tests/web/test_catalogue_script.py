"""The page reads its shared words from the message catalogue, served by the app, offline too."""

from __future__ import annotations

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
