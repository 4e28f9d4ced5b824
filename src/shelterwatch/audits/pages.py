"""The inspectors' page at `/audit/`: its shell, script and service worker (scope `/audit/`, so it
never takes over the residents' page and its worker at `/`)."""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response

router = APIRouter(include_in_schema=False)
PAGES = files("shelterwatch.audits") / "pages"


@router.get("/audit")
def audit_redirect() -> RedirectResponse:
    return RedirectResponse("/audit/", status_code=308)


@router.get("/audit/")
def audit_page() -> HTMLResponse:
    return HTMLResponse((PAGES / "audit.html").read_text(encoding="utf-8"),
                        headers={"Cache-Control": "no-cache"})


@router.get("/audit/audit.js")
def audit_js() -> Response:
    return Response((PAGES / "audit.js").read_bytes(), media_type="text/javascript",
                    headers={"Cache-Control": "no-cache"})


@router.get("/audit/sw.js")
def audit_worker() -> Response:
    return Response((PAGES / "sw.js").read_bytes(), media_type="text/javascript",
                    headers={"Cache-Control": "no-cache"})
