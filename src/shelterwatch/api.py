"""Every router the app serves and every start-up hook, in one place: where an endpoint is wired in.

Routes are matched in order. The hot path of an alert's first minute, the nearest shelter, is a
plain Starlette route matched first; then residents' reports and the offline pack.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, FastAPI
from starlette.routing import BaseRoute

from shelterwatch import health, metrics, stream
from shelterwatch.alerts import views as alerts
from shelterwatch.areas import views as areas
from shelterwatch.auth import views as tokens
from shelterwatch.checks import views as checks
from shelterwatch.escalation import views as escalation
from shelterwatch.incidents import views as incidents
from shelterwatch.log import views as log
from shelterwatch.observations import board
from shelterwatch.open311 import views as open311
from shelterwatch.pack import views as pack
from shelterwatch.reports import views as reports
from shelterwatch.shelters import views as shelters
from shelterwatch.web import nearest
from shelterwatch.web import views as web

HOT_ROUTES: list[BaseRoute] = [nearest.route]

ROUTERS: list[APIRouter] = [
    reports.router,
    pack.router,
    checks.router,
    incidents.router,
    open311.router,
    alerts.router,
    shelters.router,
    areas.router,
    log.router,
    tokens.router,
    stream.router,
    health.router,
    metrics.router,
    web.router,  # the resident page and its assets
    escalation.router,  # patrols, tasks, keyholders, doors, check-in links, console
]

# Domains that keep in-memory state load it here and subscribe to `app.state.follower`, so changes
# made by any process reach them within a second. The status board first: the pack reads it.
ON_STARTUP: list[Callable[[FastAPI], None]] = [
    web.start,  # shelter index + alert board for /v1/nearest
    board.on_startup,  # live statuses
    pack.on_startup,  # the offline pack
    reports.on_startup,  # the report writer and its limits
]
