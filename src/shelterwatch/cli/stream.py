"""`shelterwatch stream`: the live stream's own process (`/v1/stream` for the crowd)."""

from __future__ import annotations

from typing import Annotated

import typer

from shelterwatch import logs
from shelterwatch.config import get_settings


def stream(host: Annotated[str, typer.Option()] = "127.0.0.1",
           port: Annotated[int, typer.Option()] = 8100) -> None:
    """Serve `/v1/stream` (and `/v1/health/live`) on its own port; the proxy routes the
    stream there, so ten thousand phones opening or dropping at once never slow the API."""
    import uvloop

    from shelterwatch.stream import server

    settings = get_settings()
    logs.configure(settings.log_format, logs.level_of(settings.log_level))
    # uvloop, as under `serve`: its accepts, reads and writes are C, not Python, per client.
    uvloop.run(server.serve(settings, host, port))
