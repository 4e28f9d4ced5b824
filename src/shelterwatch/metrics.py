"""`GET /metrics`: Prometheus figures for the people on call — request latency per route, outbox
depth per channel, feed staleness, SSE clients, the published pack's age.

Latency is observed by a pure ASGI middleware (a clock read and a histogram bucket per request:
cheap on the hot path); everything else is read when Prometheus scrapes, never per request. The
figures are counts and ages only: nothing private, so the endpoint is public like `/v1/health`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.types import ASGIApp, Receive, Scope, Send

from shelterwatch import db
from shelterwatch.alerts import feeds
from shelterwatch.clock import utcnow
from shelterwatch.outbox.models import Delivery

router = APIRouter(tags=["health"])
WAITING = ("pending", "claimed", "sending")
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LONG_LIVED = ("/v1/stream",)  # a stream's duration is not a latency


class RouteLatency:
    """Observes each HTTP request's duration under its route's path template (never the raw
    path, so the label set stays as small as the API)."""

    def __init__(self, app: ASGIApp, histogram: Histogram) -> None:
        self.app, self.histogram = app, histogram

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            if route not in LONG_LIVED:
                self.histogram.labels(route=route, method=scope["method"]).observe(
                    time.perf_counter() - start)


class StateCollector(Collector):
    """Figures read at scrape time from the database and the process's in-memory state."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
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
        lag = GaugeMetricFamily("shelterwatch_log_applied_seq",
                                "The last fact this process applied to its in-memory state")
        lag.add_metric([], self.app.state.follower.applied_seq)
        yield lag


def install(app: Any) -> None:
    """Give the app its own registry (tests build many apps) and the latency middleware."""
    registry = CollectorRegistry()
    histogram = Histogram("shelterwatch_request_seconds", "HTTP request latency per route",
                          ["route", "method"], buckets=LATENCY_BUCKETS, registry=registry)
    registry.register(StateCollector(app))
    app.state.metrics = registry
    app.add_middleware(RouteLatency, histogram=histogram)


@router.get("/metrics", summary="Prometheus metrics (counts and ages only, nothing private)")
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics),
                    media_type=CONTENT_TYPE_LATEST)
