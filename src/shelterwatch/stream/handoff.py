"""`/v1/stream` on the API's own port, served by the stream server's protocol (a single node).

`shelterwatch serve` runs uvicorn with this HTTP protocol: a connection whose first bytes ask
for `GET /v1/stream` is handed, transport and all, to the stream server's `StreamProtocol` on
the same loop and the same hub, and never touches ASGI; every other request is uvicorn's as
before. A stream asked for later on a kept-alive connection, or in a first packet too short to
tell, still reaches the ASGI route, which serves the same events more slowly.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from shelterwatch.stream.server import StreamServer

_ASKS = (b"GET /v1/stream ", b"GET /v1/stream?")


def stream_server_of(app: Any) -> StreamServer | None:
    """The app's stream server, under whatever uvicorn wrapped the app in."""
    for _ in range(4):
        server = getattr(getattr(app, "state", None), "stream_server", None)
        if isinstance(server, StreamServer):
            return server
        app = getattr(app, "app", None)
    return None


class StreamHandoff(HttpToolsProtocol):
    def data_received(self, data: bytes) -> None:
        if data.startswith(_ASKS) and self.cycle is None and not self.pipeline:
            server = stream_server_of(self.app)
            if server is not None:
                self.connections.discard(self)  # uvicorn no longer waits for it at shutdown
                self._unset_keepalive_if_required()
                protocol = server.protocol()
                self.transport.set_protocol(protocol)
                protocol.connection_made(self.transport)
                protocol.data_received(data)
                return
        super().data_received(data)
