"""`POST /v1/reports` (anonymous) and `GET /v1/reports/{tracking_id}` (public timeline)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Header, Request
from fastapi.responses import JSONResponse

from shelterwatch.clock import utcnow
from shelterwatch.deps import ReadSession, SettingsDep, WriteSession
from shelterwatch.observations import idempotency
from shelterwatch.reports import service as reports
from shelterwatch.reports.limits import ReportLimits
from shelterwatch.reports.schemas import ReportIn

router = APIRouter(tags=["reports"])


def limits_of(request: Request) -> ReportLimits:
    """The process's rate limits, made on first use from the app's settings."""
    state = request.app.state
    if getattr(state, "report_limits", None) is None:
        state.report_limits = ReportLimits(state.settings)
    limits: ReportLimits = state.report_limits
    return limits


def on_startup(app: FastAPI) -> None:
    app.state.report_limits = ReportLimits(app.state.settings)


@router.post("/v1/reports", status_code=201, summary="Report a shelter's door (anonymous)",
             responses={201: {"description": "Receipt with tracking id and next steps"},
                        422: {"description": "A field is invalid (problem+json)"},
                        429: {"description": "Too many reports (problem+json, Retry-After)"}})
def create_report(request: Request, report: ReportIn, session: WriteSession,
                  settings: SettingsDep,
                  idempotency_key: Annotated[str | None, Header()] = None) -> JSONResponse:
    key = idempotency.check_key(idempotency_key)
    now = utcnow()
    body = report.model_dump()
    scope = "reports"
    if key is not None:
        first = idempotency.replay(session, scope=scope, key=key,
                                   digest=idempotency.request_hash(body))
        session.rollback()  # end the read before queueing for the write
        if first is not None:  # a retry costs no quota
            return JSONResponse(first.body, status_code=first.status_code)
    limits_of(request).check(device_id=report.device_id,
                             address=request.client.host if request.client else None)

    def write() -> idempotency.Receipt:
        result = reports.submit(session, report=report, now=now,
                                tracking_prefix=settings.tracking_prefix)
        return idempotency.Receipt(201, reports.receipt(result))

    receipt = idempotency.respond_once(session, scope=scope, key=key, body=body, write=write,
                                       now=now)
    return JSONResponse(receipt.body, status_code=receipt.status_code)


@router.get("/v1/reports/{tracking_id}", summary="A report's public timeline")
def get_report(tracking_id: str, session: ReadSession) -> dict[str, Any]:
    return reports.timeline(session, tracking_id=tracking_id)
