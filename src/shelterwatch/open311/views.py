"""Open311 GeoReport v2 at `/open311/v2/`: services, requests and one request, JSON or XML."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

import orjson
from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from shelterwatch import db, receipts
from shelterwatch.clock import as_utc, utcnow
from shelterwatch.deps import address_of
from shelterwatch.errors import InvalidInput, ShelterwatchError
from shelterwatch.observations import idempotency
from shelterwatch.open311 import service as open311
from shelterwatch.reports import service as reports
from shelterwatch.reports.schemas import ReportIn
from shelterwatch.reports.views import limits_of

router = APIRouter(prefix="/open311/v2", tags=["open311"])
FORMATS = ("json", "xml")


def _render(fmt: str, root: str, item: str, rows: list[dict[str, Any]],
            status_code: int = 200) -> Response:
    if fmt == "xml":
        return Response(open311.to_xml(root, item, rows), status_code=status_code,
                        media_type="application/xml")
    return Response(orjson.dumps(rows), status_code=status_code, media_type="application/json")


def _errors(fmt: str, status_code: int, description: str) -> Response:
    return _render(fmt if fmt in FORMATS else "json", "errors", "error",
                   [{"code": status_code, "description": description}], status_code)


def _guarded(fmt: str, action: Callable[[], Response]) -> Response:
    """Open311 clients expect its own error list, not problem+json."""
    if fmt not in FORMATS:
        return _errors("json", 404, f"format {fmt!r} is not supported; use .json or .xml")
    try:
        return action()
    except ShelterwatchError as exc:
        response = _errors(fmt, exc.status_code, exc.detail)
        if exc.status_code == 429:
            response.headers["Retry-After"] = str(getattr(exc, "retry_after_s", 60))
        return response


@router.get("/services.{fmt}", summary="Open311 service list")
def services(fmt: str) -> Response:
    return _guarded(fmt, lambda: _render(fmt, "services", "service", open311.service_list()))


@router.get("/services/{code}.{fmt}", summary="Open311 service definition")
def service_definition(code: str, fmt: str) -> Response:
    def run() -> Response:
        open311.service_for(code)
        return _render(fmt, "service_definition", "attributes", [])

    return _guarded(fmt, run)


def _date(params: Mapping[str, str], name: str) -> datetime | None:
    value = params.get(name)
    if not value:
        return None
    try:
        return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        raise InvalidInput(f"{name} must be an ISO 8601 date-time, got {value!r}") from None


@router.get("/requests.{fmt}", summary="Open311 service requests (residents' reports)")
def list_requests(request: Request, fmt: str) -> Response:
    params = dict(request.query_params)

    def run() -> Response:
        ids = params["service_request_id"].split(",") if params.get("service_request_id") \
            else None
        with db.reading(request.app.state.settings.database_url) as session:
            rows = open311.requests(session, ids=ids, code=params.get("service_code") or None,
                                    start=_date(params, "start_date"),
                                    end=_date(params, "end_date"),
                                    status=params.get("status") or None)
        return _render(fmt, "service_requests", "request", rows)

    return _guarded(fmt, run)


@router.get("/requests/{request_id}.{fmt}", summary="One Open311 service request")
def get_request(request: Request, request_id: str, fmt: str) -> Response:
    def run() -> Response:
        with db.reading(request.app.state.settings.database_url) as session:
            row = open311.request_or_raise(session, request_id)
        return _render(fmt, "service_requests", "request", [row])

    return _guarded(fmt, run)


def _form(body: bytes, content_type: str) -> dict[str, str]:
    if content_type.startswith("application/json"):
        try:
            data = orjson.loads(body or b"{}")
        except orjson.JSONDecodeError as exc:
            raise InvalidInput(f"body is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise InvalidInput("body must be a JSON object")
        return {str(k): str(v) for k, v in data.items() if v is not None}
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=False, strict_parsing=False)
    except UnicodeDecodeError:
        raise InvalidInput("form body is not UTF-8") from None
    return {k: v[-1] for k, v in parsed.items()}


def _float(form: Mapping[str, str], name: str) -> float | None:
    if not form.get(name):
        return None
    try:
        return float(form[name])
    except ValueError:
        raise InvalidInput(f"{name} must be a number, got {form[name]!r}") from None


@router.post("/requests.{fmt}", status_code=201, summary="Create an Open311 service request")
async def create_request(request: Request, fmt: str) -> Response:
    body = await request.body()
    if fmt not in FORMATS:
        return _errors("json", 404, f"format {fmt!r} is not supported; use .json or .xml")
    try:
        form = _form(body, request.headers.get("content-type", ""))
    except ShelterwatchError as exc:
        return _errors(fmt, exc.status_code, exc.detail)
    key = request.headers.get("idempotency-key")
    address = address_of(request)
    # The database work runs in a worker thread, like the synchronous endpoints.
    return await run_in_threadpool(_guarded, fmt, lambda: _create(request, fmt, form, key,
                                                                  address))


def _create(request: Request, fmt: str, form: dict[str, str], key: str | None,
            address: str | None) -> Response:
    settings = request.app.state.settings
    service = open311.service_for(form.get("service_code", ""))
    lat, lon = _float(form, "lat"), _float(form, "long")
    contact = form.get("email") or form.get("phone") or None
    now = utcnow()
    key = idempotency.check_key(key)
    session = db.session_factory(settings.database_url)()
    try:
        if key is not None:
            first = idempotency.replay(session, scope="open311", key=key,
                                       digest=idempotency.request_hash(form))
            session.rollback()  # end the read before queueing for the write
            if first is not None:
                return _render(fmt, "service_requests", "request", first.body["rows"], 201)
        limits = limits_of(request)

        def write() -> idempotency.Receipt:
            if service.kind is None:
                if lat is None or lon is None:
                    raise InvalidInput("lat and long are required for no_shelter_nearby")
                if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                    raise InvalidInput("lat must be within ±90 and long within ±180")
                limits.check(session, device_id=form.get("device_id"), address=address,
                             shelter_id=None, now=now)
                place = open311.record_place(
                    session, lat=lat, lon=lon, now=now, tracking_prefix=settings.tracking_prefix,
                    private={k: v for k, v in {"device_id": form.get("device_id"),
                                               "contact": contact,
                                               "note": form.get("description")}.items() if v})
                notice = "Recorded for the coverage analysis. Thank you."
                return idempotency.Receipt(201, {"rows": [{"service_request_id": place.id,
                                                           "service_notice": notice,
                                                           "account_id": None}]})
            shelter_id = form.get("address_id") or form.get("attribute[shelter_id]")
            if not shelter_id:
                if lat is None or lon is None:
                    raise InvalidInput("address_id (the shelter id) or lat/long is required")
                shelter_id = str(open311.nearest_shelter(session, lat=lat, lon=lon))
            report = _report(form, service.kind, shelter_id, lat, lon, contact)
            limits.check(session, device_id=report.device_id, address=address,
                         shelter_id=report.shelter_id, now=now)
            who = limits.witness(device_id=report.device_id, address=address)
            result = reports.submit(session, report=report, reporter=who.reporter,
                                    source=who.source, now=now,
                                    tracking_prefix=settings.tracking_prefix)
            steps = reports.next_steps(result)
            return idempotency.Receipt(201, {"rows": [{
                "service_request_id": result.observation.id, "service_notice": steps["en"],
                "account_id": None}]})

        receipt = receipts.respond_once(session, scope="open311", key=key, body=form,
                                           write=write, now=now)
        return _render(fmt, "service_requests", "request", receipt.body["rows"], 201)
    finally:
        session.rollback()
        session.close()


def _report(form: Mapping[str, str], kind: str, shelter_id: str, lat: float | None,
            lon: float | None, contact: str | None) -> ReportIn:
    if not shelter_id.isdigit():
        raise InvalidInput(f"address_id must be a shelter id (a number), got {shelter_id!r}")
    try:
        return ReportIn(shelter_id=int(shelter_id), kind=kind,  # type: ignore[arg-type]
                        reason=(form.get("attribute[reason]") or form.get("description")
                                or "")[:200] if kind == "unfit" else None,
                        note=form.get("description") or None, lat=lat, lon=lon,
                        device_id=form.get("device_id") or None, contact=contact)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "request"
        raise InvalidInput(f"{where}: {first['msg']}") from None

