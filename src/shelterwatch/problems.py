"""RFC 9457 problem+json for every error, with a precise detail; never a bare "Unknown"."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shelterwatch.errors import ShelterwatchError, TooManyRequests, Unavailable

logger = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "request"


def install(app: FastAPI) -> None:
    @app.exception_handler(ShelterwatchError)
    async def domain_error(request: Request, exc: ShelterwatchError) -> JSONResponse:
        response = problem(exc.status_code, exc.title, exc.detail)
        if isinstance(exc, TooManyRequests | Unavailable):
            response.headers["Retry-After"] = str(exc.retry_after_s)
        if exc.status_code == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        detail = "; ".join(f"{_location(e['loc'])}: {e['msg']}" for e in errors[:5])
        fields = [{"field": _location(e["loc"]), "message": e["msg"]} for e in errors]
        return problem(422, "Invalid input", detail, errors=fields)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no resource at {request.url.path}"
        return problem(exc.status_code, detail.split(":")[0][:60], detail)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "Internal error",
                       f"{type(exc).__name__} while handling {request.method} {request.url.path}; "
                       "nothing was acknowledged")
