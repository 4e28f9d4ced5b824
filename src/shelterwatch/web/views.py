"""The plain home page: how many shelters are loaded, per district."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from shelterwatch.areas import service as areas
from shelterwatch.deps import ReadSession
from shelterwatch.shelters import service as shelters

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(session: ReadSession) -> HTMLResponse:
    counts = shelters.count_by_area(session)
    rows = [(a.name, a.name_en, counts[a.id]) for a in areas.list_all(session) if a.id in counts]
    rows.sort(key=lambda r: r[0])
    total = sum(c for *_, c in rows)
    body = "".join(f"<tr><td>{escape(n)}</td><td>{escape(e)}</td><td>{c}</td></tr>"
                   for n, e, c in rows)
    html = f"""<!doctype html><html lang="uk"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>shelterwatch</title></head><body>
<h1>shelterwatch</h1>
<p>Укриттів у реєстрі / Shelters loaded: <strong id="total">{total}</strong></p>
<table><thead><tr><th>Район</th><th>District</th><th>Укриттів / Shelters</th></tr></thead>
<tbody>{body}</tbody></table>
<p><a href="/docs">API</a> · <a href="/v1/log">Public fact log</a></p>
</body></html>"""
    return HTMLResponse(html)
