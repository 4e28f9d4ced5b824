"""`POST /v1/reports` (anonymous) and `GET /v1/reports/{tracking_id}` (public timeline)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.routing import Route

from shelterwatch.answers import documented
from shelterwatch.deps import ReadSession, SettingsDep, address_of
from shelterwatch.log.follower import LogFollower
from shelterwatch.observations import idempotency
from shelterwatch.reports import service as reports
from shelterwatch.reports.limits import ReportLimits
from shelterwatch.reports.schemas import ReportIn, ReportReceipt, ReportTimeline
from shelterwatch.reports.writer import ReportWriter

router = APIRouter(tags=["reports"])


def limits_of(request: Request) -> ReportLimits:
    """The process's rate limits, made on first use from the app's settings."""
    state = request.app.state
    if getattr(state, "report_limits", None) is None:
        state.report_limits = ReportLimits(state.settings)
    limits: ReportLimits = state.report_limits
    return limits


def _caught_up(follower: LogFollower) -> Callable[[int | None, list[dict[str, Any]]], object]:
    """The writer's read-your-writes: the process applies the batch's facts as written, or when
    another process's came between, reads the log up to the batch's seq (nothing, when the
    follower, woken by that commit's notification, got there first)."""
    return lambda seq, facts: follower.hand_over(facts) or follower.catch_up(seen=seq)


def writer_of(request: Request) -> ReportWriter:
    """The process's group-commit writer of reports, made on first use."""
    state = request.app.state
    if getattr(state, "report_writer", None) is None:
        state.report_writer = ReportWriter(state.settings.database_url, limits=limits_of(request),
                                           tracking_prefix=state.settings.tracking_prefix,
                                           on_batch=getattr(state, "observe_report_batch", None),
                                           after_commit=_caught_up(state.follower))
    writer: ReportWriter = state.report_writer
    return writer


async def report_endpoint(request: Request) -> Response:
    """`POST /v1/reports`: validate the raw body, queue the report for the process's writer and
    answer once it is committed (or refused)."""
    try:
        report = ReportIn.model_validate_json(await request.body())
    except ValidationError as exc:  # answered as FastAPI answers a body it refuses (problems.py)
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from exc
    return await _answer(request, report, request.headers.get("idempotency-key"))


async def _answer(request: Request, report: ReportIn, idempotency_key: str | None) -> Response:
    key = idempotency.check_key(idempotency_key)
    # Read your writes: the writer catches this process up before the 201 leaves, so its board
    # shows the new status.
    receipt = await writer_of(request).submit(report, key=key, address=address_of(request))
    return Response(orjson.dumps(receipt.body), status_code=receipt.status_code,
                    media_type="application/json")


# A plain Starlette route, matched before the routers (api.HOT_ROUTES): FastAPI's dependency
# solving, validation and routing cost a resident's report more CPU than its write did.
route = Route("/v1/reports", report_endpoint, methods=["POST"], include_in_schema=False)


@router.post("/v1/reports", status_code=201, summary="Report a shelter's door (anonymous)",
             response_model=None,
             responses={201: {"description": "Receipt with tracking id and next steps",
                              "model": ReportReceipt},
                        422: {"description": "A field is invalid (problem+json)"},
                        429: {"description": "Too many reports (problem+json, Retry-After)"}})
async def create_report(request: Request, report: ReportIn,
                        idempotency_key: Annotated[str | None, Header()] = None) -> Response:
    """Queue the report for the process's writer; answer once it is committed (or refused).

    Its declaration documents the endpoint in the OpenAPI schema; requests reach `route` first,
    which answers them the same way."""
    return await _answer(request, report, idempotency_key)


@router.get("/v1/reports/{tracking_id}", summary="A report's public timeline",
            **documented(ReportTimeline))
def get_report(tracking_id: str, session: ReadSession, settings: SettingsDep) -> dict[str, Any]:
    return reports.timeline(session, tracking_id=tracking_id, zone=settings.timezone)
