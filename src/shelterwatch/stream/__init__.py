"""The live stream: the log's public events to every connected client (`/v1/stream`)."""

from shelterwatch.stream.hub import StreamHub
from shelterwatch.stream.views import router

__all__ = ["StreamHub", "router"]
