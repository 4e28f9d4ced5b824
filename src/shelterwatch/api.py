"""Every router the app serves, in one place: where an endpoint is wired in.

Routes are matched in order. The hot paths of an alert's first minute, the nearest shelter and
the live stream a crowd connects to, are plain Starlette routes matched first; then residents'
reports and the offline pack.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.routing import BaseRoute, Route

from shelterwatch import health, metrics, stream
from shelterwatch.alerts import views as alerts
from shelterwatch.areas import views as areas
from shelterwatch.audits import pages as audit_pages
from shelterwatch.audits import views as audits
from shelterwatch.auth import views as tokens
from shelterwatch.channels import signs
from shelterwatch.channels.push import views as push
from shelterwatch.channels.sms import views as sms
from shelterwatch.channels.telegram import views as telegram
from shelterwatch.checks import views as checks
from shelterwatch.coverage import views as coverage
from shelterwatch.devices import views as devices
from shelterwatch.doors import views as doors
from shelterwatch.escalation import views as escalation
from shelterwatch.incidents import views as incidents
from shelterwatch.keyholders import views as keyholders
from shelterwatch.log import views as log
from shelterwatch.observations import views as cards
from shelterwatch.open311 import views as open311
from shelterwatch.pack import views as pack
from shelterwatch.patrols import views as patrols
from shelterwatch.reports import views as reports
from shelterwatch.shelters import views as shelters
from shelterwatch.sources import views as sources
from shelterwatch.stats import views as stats
from shelterwatch.web import nearest_route
from shelterwatch.web import views as web

HOT_ROUTES: list[BaseRoute] = [nearest_route.route, stream.route, reports.route]
# Answered for GET ahead of FastAPI's middleware stack (`app.App`); each is also in HOT_ROUTES.
FRONT_ROUTES: list[Route] = [nearest_route.route]

ROUTERS: list[APIRouter] = [
    reports.router,
    devices.router,  # issued device ids for residents' phones
    pack.router,
    checks.router,
    incidents.router,  # the cases and the operator's actions on one
    open311.router,
    alerts.router,
    shelters.router,
    cards.router,  # the shelter card's last verified open
    areas.router,
    log.router,
    tokens.router,
    health.router,
    metrics.router,
    web.router,  # the resident page and its assets
    patrols.router,  # units and their tasks
    keyholders.router,
    doors.router,  # door controllers: registering, remote unlock
    sources.router,  # the surge detector and quarantines
    escalation.router,  # the console, owners, a report's progress, check-in links
    stats.router,  # accountability figures, the owners' view, dossiers
    stats.page_router,  # /stats pages
    telegram.router,  # the residents' Telegram bot
    sms.router,  # residents' SMS through the gateway
    signs.router,  # printable door signs
    push.router,  # web push subscriptions
    coverage.router,  # coverage gaps: /v1/coverage, /coverage, the console's panel
    audits.router,  # readiness audits: checklist, audits, deficiencies, ghosts, photos
    audit_pages.router,  # the inspectors' offline page at /audit/
]
