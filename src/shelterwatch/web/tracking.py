"""`/t/{tracking_id}`: the page a person reads for one report, in Ukrainian and English.

`GET /v1/reports/{tracking_id}` stays the JSON for programs; this page shows the same case as a
timeline with who was reached, live over the stream. Every tracking id the app hands out
resolves here, a "no shelter near here" report's too; an id that cannot be one is answered with
a page that says what tracking ids look like, not with a bare 404 body.
"""

from __future__ import annotations

from html import escape
from importlib.resources import files
from string import Template

import orjson
from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from shelterwatch.messages import status as wording
from shelterwatch.rules import tracking
from shelterwatch.web import page_words

router = APIRouter(include_in_schema=False)
TEMPLATES = files("shelterwatch.web") / "templates"


@router.get("/t/{tracking_id}", response_class=HTMLResponse)
def tracking_page(tracking_id: str) -> HTMLResponse:
    canonical = tracking.parse(tracking_id) or tracking_id[:32]
    config = {"trackingId": canonical,
              "statusText": wording.headlines()}
    page = Template(page_words.worded((TEMPLATES / "track.html").read_text("utf-8")))
    shown = escape(canonical, quote=True)
    html = page.substitute(
        tracking_id=shown, title=page_words.title("trackTitle", f" {shown}"),
        config=orjson.dumps(config).decode().replace("</", "<\\/"))
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})

