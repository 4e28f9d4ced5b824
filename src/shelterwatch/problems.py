"""RFC 9457 problem+json for every error, with a precise detail; never a bare "Unknown"."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from shelterwatch.errors import ShelterwatchError, TooManyRequests, Unavailable

logger = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def domain_problem(exc: ShelterwatchError) -> JSONResponse:
    """What a caller is told of a domain error: its status, title and precise detail."""
    response = problem(exc.status_code, exc.title, exc.detail)
    if isinstance(exc, TooManyRequests | Unavailable):
        response.headers["Retry-After"] = str(exc.retry_after_s)
    if exc.status_code == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


def internal_problem(method: str, path: str, exc: Exception) -> JSONResponse:
    """A 500 that names what failed (logged with its traceback), never a bare "Unknown"."""
    logger.error("unhandled error on %s %s", method, path, exc_info=exc)
    return problem(500, "Internal error",
                   f"{type(exc).__name__} while handling {method} {path}; "
                   "nothing was acknowledged")


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "request"


def install(app: FastAPI) -> None:
    @app.exception_handler(ShelterwatchError)
    async def domain_error(request: Request, exc: ShelterwatchError) -> JSONResponse:
        return domain_problem(exc)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        refused = await run_in_threadpool(_caller_refused, request)
        if refused is not None:  # nobody learns an endpoint's schema before its token is checked
            return await domain_error(request, refused)
        errors = exc.errors()
        detail = "; ".join(f"{_location(e['loc'])}: {e['msg']}" for e in errors[:5])
        fields = [{"field": _location(e["loc"]), "message": e["msg"]} for e in errors]
        return problem(422, "Invalid input", detail, errors=fields)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no resource at {request.url.path}"
        response = problem(exc.status_code, detail.split(":")[0][:60], detail)
        for name, value in (exc.headers or {}).items():  # Allow on 405, for one
            response.headers[name] = value
        return response

    @app.exception_handler(OverflowError)
    async def overflow(request: Request, exc: OverflowError) -> JSONResponse:
        return problem(422, "Invalid input", "a number in the request is out of range "
                       "(ids fit in 31 bits, sequence numbers in 63)")

    @app.exception_handler(DataError)
    async def data_error(request: Request, exc: DataError) -> JSONResponse:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        return problem(422, "Invalid input", f"the database refused a value: {reason}; "
                       "nothing was changed")

    @app.exception_handler(DBAPIError)
    async def database_error(request: Request, exc: DBAPIError) -> JSONResponse:
        from shelterwatch import db

        if not db.is_disconnect(exc):
            return await unexpected(request, exc)
        # The primary died or is being replaced; the pool reconnects to whichever server is
        # primary next. Whether a write in flight was committed is unknown to us, so the
        # answer says so, and a phone's retry with its Idempotency-Key is answered once.
        logger.warning("database unreachable on %s %s: %s", request.method, request.url.path,
                       (str(exc.orig or exc).splitlines() or [""])[0])
        response = problem(503, "Database unavailable",
                           "the database did not answer (it may be failing over to its "
                           "replica); this request may not have been recorded: send it again, "
                           "with the same Idempotency-Key for a report")
        response.headers["Retry-After"] = "1"
        return response

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        return internal_problem(request.method, request.url.path, exc)


def _caller_refused(request: Request) -> ShelterwatchError | None:
    """The 401/403 a role-only endpoint would answer this caller, checked before its body."""
    from shelterwatch import db
    from shelterwatch.auth import service as auth
    from shelterwatch.errors import Forbidden, Unauthorized

    route = request.scope.get("route")
    roles = required_roles(getattr(route, "dependant", None))
    if not roles:
        return None
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return Unauthorized("this endpoint needs a bearer token with role "
                            + ", ".join(r.value for r in roles))
    try:
        with db.reading(request.app.state.settings.database_url) as session:
            actor = auth.authenticate(session, value.strip())
    except ShelterwatchError as exc:
        return exc
    if actor.role not in roles:
        return Forbidden(f"role {actor.role.value} may not do this")
    return None


def required_roles(dependant: Any) -> tuple[Any, ...]:
    """The roles a route's `require_role` dependency demands, found by walking its dependants."""
    if dependant is None:
        return ()
    roles = getattr(dependant.call, "required_roles", ())
    if roles:
        return tuple(roles)
    for sub in dependant.dependencies:
        found = required_roles(sub)
        if found:
            return found
    return ()
