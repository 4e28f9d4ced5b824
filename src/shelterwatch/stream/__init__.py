"""The live stream: the log's public events to every connected client (`/v1/stream`)."""

from shelterwatch.stream.hub import StreamHub
from shelterwatch.stream.views import document, route

__all__ = ["StreamHub", "document", "route"]
