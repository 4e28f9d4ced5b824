"""The routers and start-up hooks of evidence: reports, checks, incidents, Open311 and the pack."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, FastAPI

from shelterwatch.checks import views as checks
from shelterwatch.incidents import views as incidents
from shelterwatch.observations import board
from shelterwatch.open311 import views as open311
from shelterwatch.pack import views as pack
from shelterwatch.reports import views as reports

EVIDENCE_ROUTERS: list[APIRouter] = [reports.router, checks.router, incidents.router,
                                     pack.router, open311.router]

# The status board first: the pack reads statuses from it.
EVIDENCE_STARTUP: list[Callable[[FastAPI], None]] = [board.on_startup, pack.on_startup,
                                                     reports.on_startup]
