"""Real HTTP servers on loopback that answer like alerts.in.ua and ukrainealarm do."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Provider:
    """Routes path -> (status, body); records every request's path and headers."""

    routes: dict[str, tuple[int, Any]] = field(default_factory=dict)
    last_modified: str = "Thu, 01 Jun 2023 00:03:01 GMT"
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    url: str = ""


def _handler(provider: Provider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            provider.requests.append((self.path, dict(self.headers)))
            status, body = provider.routes.get(self.path.split("?")[0], (404, {"message": "?"}))
            if status == 200 and self.headers.get("If-Modified-Since") == provider.last_modified:
                self.send_response(304)
                self.end_headers()
                return
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            if status == 200:
                self.send_header("Last-Modified", provider.last_modified)
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def serve(provider: Provider) -> Iterator[Provider]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    provider.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()


def alerts_in_ua_alert(id: int, uid: str, title: str, oblast_uid: int, started: str,
                       location_type: str = "oblast", alert_type: str = "air_raid",
                       threats: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """One entry of `/v1/alerts/active.json` as devs.alerts.in.ua documents it."""
    alert: dict[str, Any] = {
        "id": id, "location_title": title, "location_type": location_type,
        "started_at": started, "finished_at": None, "updated_at": started,
        "alert_type": alert_type, "location_uid": uid, "location_oblast": title,
        "location_oblast_uid": oblast_uid, "location_raion": None, "notes": None,
        "calculated": None, "country": None, "deleted_at": None,
    }
    if threats is not None:
        alert["threats"] = threats
    return alert


LUHANSK = alerts_in_ua_alert(8757, "16", "Луганська область", 16, "2022-04-04T16:45:39.000Z")
KYIV = alerts_in_ua_alert(20151, "31", "м. Київ", 31, "2023-05-31T23:49:31.000Z",
                          location_type="city",
                          threats=[{"threat_type": "ballistic", "level": "red",
                                    "started_at": "2023-05-31T23:49:31.000Z"}])
BUCHA = alerts_in_ua_alert(20152, "75", "Бучанський район", 14, "2023-05-31T23:50:02.000Z",
                           location_type="raion")


def alerts_in_ua_body(*alerts: dict[str, Any]) -> dict[str, Any]:
    return {"alerts": list(alerts),
            "meta": {"last_updated_at": "2023/06/01 00:03:01 +0000", "type": "full"},
            "disclaimer": "If you use this API, you must provide attribution to alerts.in.ua"}


def ukrainealarm_region(region_id: str, name: str, alerts: list[tuple[str, str]],
                        region_type: str = "State") -> dict[str, Any]:
    """One entry of `/api/v3/alerts`: a region and its active alerts (type, lastUpdate)."""
    return {"regionId": region_id, "regionType": region_type, "regionName": name,
            "regionEngName": name, "lastUpdate": alerts[0][1] if alerts else None,
            "activeAlerts": [{"regionId": region_id, "regionType": region_type, "type": kind,
                              "lastUpdate": at} for kind, at in alerts]}
