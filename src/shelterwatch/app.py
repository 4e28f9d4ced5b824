"""The ASGI application: routers, problem+json errors, the body limit and the process's state.

`AppState` is everything one API process holds in memory. `create_app` builds it; the lifespan
notes the log's position and then loads the projections in one explicit order, each handed what
it reads (the pack and coverage read the status board), and each follows the log from there.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from shelterwatch import __version__, api, clock, db, metrics, openapi, problems, stream
from shelterwatch.audits.photos import PhotoStore
from shelterwatch.basemap.archive import Archive
from shelterwatch.config import Settings, get_settings
from shelterwatch.coverage import views as coverage
from shelterwatch.coverage.live import LiveCoverage
from shelterwatch.limits import BodyLimit, HeaderLimit
from shelterwatch.log import service as log
from shelterwatch.log.follower import LogFollower
from shelterwatch.observations import board
from shelterwatch.observations.board import StatusBoard
from shelterwatch.pack import views as pack
from shelterwatch.pack.published import PublishedPack
from shelterwatch.pack.service import PackCache
from shelterwatch.reports.limits import ReportLimits
from shelterwatch.reports.writer import ReportWriter
from shelterwatch.shelters.index import ShelterIndex
from shelterwatch.stream import StreamHub
from shelterwatch.stream.server import StreamServer
from shelterwatch.vocabulary import NOTIFICATION_KINDS
from shelterwatch.web import nearest, nearest_route
from shelterwatch.web import views as web
from shelterwatch.web.alert_board import AlertBoard
from shelterwatch.web.saturation import Lateness, LoopWatch

DESCRIPTION = """Keeps a city's bomb shelters open and ready when the air-raid siren sounds.
Public reads need no token; role-only endpoints take `Authorization: Bearer <token>`.
Errors are RFC 9457 `application/problem+json`."""


@dataclass(eq=False)
class AppState:
    """One API process's state, read by the views as `request.app.state`."""

    settings: Settings
    follower: LogFollower
    hub: StreamHub
    report_limits: ReportLimits
    stream_server: StreamServer  # `/v1/stream` handed over by `shelterwatch serve`
    report_writer: ReportWriter | None = None  # made on the first report (`reports.views`)
    coverage_cells: dict[Any, bytes] = field(default_factory=dict)
    photo_store: PhotoStore | None = None  # made on the first audit photo (`audits.views`)
    metrics: CollectorRegistry = field(init=False)  # `metrics.install`
    observe_report_batch: Callable[[float], None] = field(init=False)  # `metrics.install`
    # Loaded at start-up (`load`), after the log's position is noted:
    shelter_index: ShelterIndex = field(init=False)
    alert_board: AlertBoard = field(init=False)
    nearest: nearest.Nearest = field(init=False)
    status_board: StatusBoard = field(init=False)
    status_of: Callable[[int], dict[str, Any]] = field(init=False)
    pack: PackCache | PublishedPack = field(init=False)
    coverage: LiveCoverage = field(init=False)
    basemap: Archive | None = field(init=False)  # the built street map, if any
    observed: Callable[[ASGIApp], ASGIApp] = field(init=False)  # `metrics.install`
    loop_watch: LoopWatch = field(init=False)  # look-ups giving way (`web.saturation`)


def load(state: AppState) -> None:
    """Load every in-memory projection and follow the log with it; the status board comes
    first: the shelter index, the pack and coverage read it."""
    settings, follower = state.settings, state.follower
    state.status_board = board.start(settings.database_url, follower)
    state.status_of = state.status_board.get
    state.shelter_index, state.alert_board, state.nearest = web.start(
        settings, follower, state.status_board.statuses)
    state.nearest.watch = state.loop_watch
    state.pack = pack.start(settings, follower, state.status_board)
    state.coverage = coverage.start(settings, follower, state.status_board)
    state.basemap = web.open_basemap(settings.basemap_dir)


class App(FastAPI):
    """FastAPI with a front door for the residents' hottest GET routes (`api.FRONT_ROUTES`).

    They are answered ahead of FastAPI's own stack (its telemetry check, body limits, exception
    and exit-stack middlewares, the route table), through only what they need: the header limit
    and the request observer (metrics, request id, the request's log line). That stack cost a
    fifth of `/v1/nearest`'s request. Other methods on those paths (HEAD, a 405) and every other
    path go through FastAPI as usual; the front routes answer their own errors as problem+json.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.front: dict[str, tuple[Route, ASGIApp]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            door = self.front.get(scope["path"])
            if door is not None:
                scope["app"] = self
                scope["route"] = door[0]
                await door[1](scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None) -> App:
    settings = settings or get_settings()
    settings.check_secrets()
    clock.compress(settings.clock_speed, settings.clock_anchor)
    # No projection here reads the outbox's bookkeeping; an alert's surge is mostly that.
    follower = LogFollower(settings.database_url, interval_s=settings.follow_interval_s,
                           skip=NOTIFICATION_KINDS)
    hub = StreamHub()
    follower.subscribe(hub.publish)
    state = AppState(settings=settings, follower=follower, hub=hub,
                     report_limits=ReportLimits(settings),
                     stream_server=StreamServer(hub, settings))
    state.loop_watch = LoopWatch(Lateness(settings.lookups_give_way_after_ms / 1000))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with db.reading(settings.database_url) as session:
            follower.applied_seq = log.last_seq(session)
        load(state)  # after noting the log position, so no fact falls between
        hub.begin(follower.applied_seq)
        hub.close_on_signals()
        # What start-up loaded lives as long as the process: out of the collector's way, so a
        # full collection scans only what came later (with ten thousand streams open, that
        # is the difference between a pause and a stall).
        gc.collect()
        gc.freeze()
        follower.start()
        state.loop_watch.start()
        try:
            yield
        finally:
            state.loop_watch.stop()
            follower.stop()
            state.coverage.stop()
            state.stream_server.close()

    # /docs is served by shelterwatch.web with Swagger UI's files from a pip package: no CDN.
    app = App(title="shelterwatch", version=__version__, description=DESCRIPTION,
                  lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state = state  # type: ignore[assignment]
    problems.install(app)
    for route in api.HOT_ROUTES:  # plain routes, matched before anything else
        app.router.routes.append(route)
    for router in api.ROUTERS:
        app.include_router(router)
    nearest_route.document(app)
    stream.document(app)
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
    for route in api.FRONT_ROUTES:
        app.front[route.path] = (route, HeaderLimit(state.observed(route.endpoint),
                                                    max_bytes=settings.max_header_bytes))
    return app
