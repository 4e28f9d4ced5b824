"""The ASGI application: routers, problem+json errors, the body limit and the log follower."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from shelterwatch import __version__, api, metrics, openapi, problems
from shelterwatch.config import Settings, get_settings
from shelterwatch.limits import BodyLimit, HeaderLimit
from shelterwatch.log import service as log
from shelterwatch.log.follower import LogFollower
from shelterwatch.stream import StreamHub

DESCRIPTION = """Keeps a city's bomb shelters open and ready when the air-raid siren sounds.
Public reads need no token; role-only endpoints take `Authorization: Bearer <token>`.
Errors are RFC 9457 `application/problem+json`."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.check_secrets()
    follower = LogFollower(settings.database_url, interval_s=settings.follow_interval_s)
    hub = StreamHub()
    follower.subscribe(hub.publish)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from shelterwatch import db

        with db.reading(settings.database_url) as session:
            follower.applied_seq = log.last_seq(session)
        for hook in api.ON_STARTUP:  # load in-memory state after noting the log position
            hook(app)
        follower.start()
        try:
            yield
        finally:
            follower.stop()

    # /docs is served by shelterwatch.web with Swagger UI's files from a pip package: no CDN.
    app = FastAPI(title="shelterwatch", version=__version__, description=DESCRIPTION,
                  lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.follower = follower
    app.state.hub = hub
    problems.install(app)
    for route in api.HOT_ROUTES:  # plain routes, matched before anything else
        app.router.routes.append(route)
    for router in api.ROUTERS:
        app.include_router(router)
    metrics.install(app)
    openapi.install(app, api.ROUTERS)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes,
                       large_paths={"/v1/alerts/cap": 2_000_000,
                                    "/v1/keyholders/import": 2_000_000,
                                    # audits carry their photos (500 KB each, base64)
                                    "/v1/audits": 12_000_000,
                                    "/v1/deficiencies": 1_000_000,
                                    "/v1/ghosts": 1_000_000,
                                    "/v1/campaigns": 1_000_000})  # thousands of groups
    app.add_middleware(HeaderLimit, max_bytes=settings.max_header_bytes)
    return app
