"""`GET /metrics`: Prometheus figures for the people on call — request latency per route, the
report writer's batch sizes (how many reports share one commit: it grows with the crowd), outbox
depth per channel, feed staleness, SSE clients, the published pack's age.

Latency is observed by a pure ASGI middleware (a clock read and a histogram bucket per request:
cheap on the hot path); everything else is read when Prometheus scrapes, never per request. The
figures are counts and ages only: nothing private, so the endpoint is public like `/v1/health`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shelterwatch import db, logs
from shelterwatch.alerts import feeds
from shelterwatch.clock import utcnow
from shelterwatch.outbox.models import Delivery

router = APIRouter(tags=["health"])
requests_log = logging.getLogger("shelterwatch.requests")
WAITING = ("pending", "claimed", "sending")
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
LONG_LIVED = ("/v1/stream",)  # a stream's duration is not a latency
# Answers counted in /metrics rather than logged one by one: a look-up sent to the phone's
# pack while the process gives way to reports (`web.saturation` logs when that starts and
# ends); a line each would cost CPU exactly when there is none to spare.
COUNTED_NOT_LOGGED = frozenset({("/v1/nearest", 503)})


class RequestObserver:
    """Observes each HTTP request's duration under its route's path template (never the raw
    path, so the label set stays as small as the API) and writes the request's log line when it
    is worth one (`Settings.log_requests`): its id, route template, method, status and duration
    only — the query string and body, where a resident's position and device travel, never."""

    def __init__(self, app: ASGIApp, histogram: Histogram, *, log_requests: str = "notable",
                 slow_s: float = 0.5, plain: dict[Any, str] | None = None) -> None:
        self.app, self.histogram = app, histogram
        self.plain = plain or {}  # plain Starlette routes (nearest) by endpoint: no scope["route"]
        self.log_requests, self.slow_s = log_requests, slow_s
        # Each (route, method)'s histogram child, found once: `labels()` takes a lock and
        # builds its key on every call. Bounded by the API's routes.
        self._children: dict[tuple[str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        offered = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                offered = value
                break
        token = logs.request_id.set(logs.new_request_id(offered))
        status = 500  # what the client gets if the app fails before it answers

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            elapsed = time.perf_counter() - start
            route = (getattr(scope.get("route"), "path", None)
                     or self.plain.get(scope.get("endpoint")) or "unmatched")
            method = scope["method"]
            if route not in LONG_LIVED:
                child = self._children.get((route, method))
                if child is None:
                    child = self._children[route, method] = self.histogram.labels(route, method)
                child.observe(elapsed)
            if self._worth_a_line(method, status, elapsed) and (
                    (route, status) not in COUNTED_NOT_LOGGED):
                requests_log.info("request", extra={
                    "route": route, "method": method, "status": status,
                    "duration_ms": round(elapsed * 1000, 2)})
            logs.request_id.reset(token)

    def _worth_a_line(self, method: str, status: int, elapsed: float) -> bool:
        if self.log_requests == "all":
            return True
        if self.log_requests == "none":
            return False
        return method not in ("GET", "HEAD") or status >= 400 or elapsed >= self.slow_s


class StateCollector(Collector):
    """Figures read at scrape time from the database and the process's in-memory state."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        settings = self.app.state.settings
        depth = GaugeMetricFamily("shelterwatch_outbox_depth",
                                  "Deliveries not yet sent, per channel", labels=["channel"])
        stale = GaugeMetricFamily("shelterwatch_feed_stale",
                                  "1 when an alert feed has not answered well lately",
                                  labels=["source"])
        since = GaugeMetricFamily("shelterwatch_feed_seconds_since_ok",
                                  "Seconds since each alert feed last answered well",
                                  labels=["source"])
        now = utcnow()
        with db.reading(settings.database_url) as session:
            for channel, count in session.execute(
                    select(Delivery.channel, func.count()).where(Delivery.state.in_(WAITING))
                    .group_by(Delivery.channel)).all():
                depth.add_metric([channel], count)
            for feed in feeds.states(session, now=now,
                                     stale_after_s=settings.feed_stale_after_s):
                stale.add_metric([feed.source], 1.0 if feed.stale else 0.0)
                if feed.last_ok_at is not None:
                    since.add_metric([feed.source], (now - feed.last_ok_at).total_seconds())
        yield from (depth, stale, since)
        clients = GaugeMetricFamily("shelterwatch_sse_clients", "Connected /v1/stream clients")
        clients.add_metric([], self.app.state.hub.client_count())
        yield clients
        age = self.app.state.pack.age_s() if hasattr(self.app.state.pack, "age_s") else None
        if age is not None:
            pack = GaugeMetricFamily("shelterwatch_pack_age_seconds",
                                     "Seconds since the served offline pack was published")
            pack.add_metric([], age)
            yield pack
        watch = self.app.state.loop_watch
        yield GaugeMetricFamily("shelterwatch_loop_late_seconds",
                                "How late the event loop's last tick ran",
                                value=watch.lateness.last_late_s)
        yield CounterMetricFamily("shelterwatch_lookups_given_way",
                                  "Look-ups sent to the phone's offline pack while the process "
                                  "gave way to reports", value=watch.given_way)
        lag = GaugeMetricFamily("shelterwatch_log_applied_seq",
                                "The last fact this process applied to its in-memory state")
        lag.add_metric([], self.app.state.follower.applied_seq)
        yield lag


def install(app: Any) -> None:
    """Give the app its own registry (tests build many apps) and the latency middleware."""
    registry = CollectorRegistry()
    histogram = Histogram("shelterwatch_request_seconds", "HTTP request latency per route",
                          ["route", "method"], buckets=LATENCY_BUCKETS, registry=registry)
    batches = Histogram("shelterwatch_report_batch_size",
                        "Reports written per group commit of the report writer",
                        buckets=BATCH_BUCKETS, registry=registry)
    registry.register(StateCollector(app))
    app.state.metrics = registry
    app.state.observe_report_batch = batches.observe
    settings = app.state.settings
    plain = {r.endpoint: r.path for r in app.router.routes if type(r) is Route}
    observing: dict[str, Any] = {"histogram": histogram, "log_requests": settings.log_requests,
                                 "slow_s": settings.log_slow_ms / 1000, "plain": plain}
    app.add_middleware(RequestObserver, **observing)
    # The same observer for the routes the app answers ahead of its middleware stack.
    app.state.observed = lambda inner: RequestObserver(inner, **observing)


@router.get("/metrics", summary="Prometheus metrics (counts and ages only, nothing private)")
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics),
                    media_type=CONTENT_TYPE_LATEST)
