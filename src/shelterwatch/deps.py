"""FastAPI dependencies: settings, database sessions, the calling actor and role checks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session

from shelterwatch import db
from shelterwatch.auth import service as auth
from shelterwatch.auth.service import Actor
from shelterwatch.clientaddr import client_address
from shelterwatch.config import Settings
from shelterwatch.errors import Forbidden, Unauthorized
from shelterwatch.vocabulary import Role


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def read_session(request: Request) -> Iterator[Session]:
    """A session for reads; it never takes the write lock."""
    with db.reading(request.app.state.settings.database_url) as session:
        yield session


def stale_read_session(request: Request) -> Iterator[Session]:
    """A session for reads that may lag the primary by a second (the public log, statistics):
    on the replica when SHELTERWATCH_REPLICA_URL names one, so they take no primary's CPU."""
    with db.reading(request.app.state.settings.stale_read_url) as session:
        yield session


def write_session(request: Request) -> Iterator[Session]:
    """A session for writes. The view commits before it answers (DESIGN §3.1); anything not
    committed when the request ends is rolled back."""
    session = db.session_factory(request.app.state.settings.database_url)()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


SettingsDep = Annotated[Settings, Depends(get_settings)]
# A row id in a path: the databases' INTEGER, so a larger number is a 422, never an overflow.
DbId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def address_of(request: Request) -> str | None:
    """The client's address (the peer, or X-Forwarded-For from a trusted proxy)."""
    peer = request.client.host if request.client else None
    return client_address(peer, request.headers.get("x-forwarded-for"),
                          request.app.state.settings.trusted_proxies)
ReadSession = Annotated[Session, Depends(read_session)]
StaleReadSession = Annotated[Session, Depends(stale_read_session)]
WriteSession = Annotated[Session, Depends(write_session)]


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def require_role(*roles: Role) -> Callable[..., Actor]:
    """A dependency that lets through only tokens holding one of `roles`."""
    allowed = ", ".join(r.value for r in roles)

    def check(request: Request, session: ReadSession) -> Actor:
        token = bearer(request)
        if token is None:
            raise Unauthorized(f"this endpoint needs a bearer token with role {allowed}")
        actor = auth.authenticate(session, token)
        if actor.role not in roles:
            raise Forbidden(f"role {actor.role.value} may not do this (needs {allowed})")
        return actor

    check.required_roles = roles  # type: ignore[attr-defined]  # read by problems.py
    return check
