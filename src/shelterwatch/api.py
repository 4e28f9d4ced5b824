"""Every router the app serves, in one list: the single place a new endpoint is wired in."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, FastAPI
from starlette.routing import BaseRoute

from shelterwatch import health, stream
from shelterwatch.alerts import views as alerts
from shelterwatch.areas import views as areas
from shelterwatch.auth import views as tokens
from shelterwatch.escalation import views as escalation
from shelterwatch.evidence_views import EVIDENCE_ROUTERS, EVIDENCE_STARTUP
from shelterwatch.log import views as log
from shelterwatch.shelters import views as shelters
from shelterwatch.web import nearest
from shelterwatch.web import views as web

# Routes are matched in order. The hot path of an alert's first minute, the nearest shelter, is a
# plain Starlette route matched first; then residents' reports and the offline pack.
HOT_ROUTES: list[BaseRoute] = [nearest.route]
ROUTERS: list[APIRouter] = [
    *EVIDENCE_ROUTERS,  # reports, checks, incidents, Open311, pack
    alerts.router,
    shelters.router,
    areas.router,
    log.router,
    tokens.router,
    stream.router,
    health.router,
    web.router,  # the resident page and its assets
    escalation.router,  # patrols, tasks, keyholders, doors, check-in links, console
]

# Domains that keep in-memory state (indexes, packs) load it here and subscribe to
# `app.state.follower`, so changes made by any process reach them within a second.
ON_STARTUP: list[Callable[[FastAPI], None]] = []
ON_STARTUP.append(web.start)  # shelter index + alert board for /v1/nearest
ON_STARTUP.extend(EVIDENCE_STARTUP)  # status board, pack, report limits
