"""The stream process's `/metrics`: what the people on call ask of a stream node.

How many clients it holds, the log position it follows (beside the API nodes' own
`shelterwatch_log_applied_seq`, a stream node that stopped following shows as a flat line), how
many events it has written and how many clients it cut for not reading. Counts only, read when
Prometheus scrapes: the hot path adds one integer per write, nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from shelterwatch.log.follower import LogFollower
from shelterwatch.stream.hub import StreamHub

CONTENT_TYPE = CONTENT_TYPE_LATEST


@dataclass(slots=True)
class Tally:
    """Counts the protocol bumps as it goes (plain integers, one event loop)."""

    events_sent: int = 0
    slow_cut: int = 0


class StreamCollector(Collector):
    def __init__(self, hub: StreamHub, tally: Tally, follower: LogFollower | None) -> None:
        self.hub, self.tally, self.follower = hub, tally, follower

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        clients = GaugeMetricFamily("shelterwatch_sse_clients", "Connected /v1/stream clients")
        clients.add_metric([], self.hub.client_count())
        yield clients
        if self.follower is not None:
            applied = GaugeMetricFamily("shelterwatch_log_applied_seq",
                                        "The last fact this process followed from the log")
            applied.add_metric([], self.follower.applied_seq)
            yield applied
        sent = CounterMetricFamily("shelterwatch_sse_events_sent",
                                   "Events written to /v1/stream clients (one per client each)")
        sent.add_metric([], self.tally.events_sent)
        yield sent
        cut = CounterMetricFamily("shelterwatch_sse_slow_clients_cut",
                                  "Clients cut for falling behind the ring (they resume from "
                                  "the log with their Last-Event-ID)")
        cut.add_metric([], self.tally.slow_cut)
        yield cut


def registry_for(hub: StreamHub, tally: Tally, follower: LogFollower | None) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(StreamCollector(hub, tally, follower))
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
