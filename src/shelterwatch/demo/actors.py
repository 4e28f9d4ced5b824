"""The people and devices of a replay: keyholders' phones (a webhook inbox) and a door controller.

Both speak the real protocols — HTTP webhooks signed by the outbox, MQTT to the broker — so a
replay exercises exactly what a city would run.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import urlsplit

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from shelterwatch import db
from shelterwatch.doors.models import DoorController


class Inbox:
    """A loopback HTTP server standing for keyholders' phones: hands each webhook on."""

    def __init__(self) -> None:
        self.on_message: Callable[[str, dict[str, Any]], None] = lambda path, body: None
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                inbox.on_message(self.path, orjson.loads(body))

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> Inbox:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Witness(Protocol):
    def door_opened(self, event: str) -> None: ...


class Door:
    """A simulated door controller: unlocks on command and reports its state over MQTT."""

    def __init__(self, shelter_id: int, mqtt_url: str, witness: Witness) -> None:
        self.shelter_id = shelter_id
        self.witness = witness
        self.state = "locked"
        self.pending = False  # a command or a state not yet seen through
        parts = urlsplit(mqtt_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 1883
        self.subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2,
                                  client_id=f"demo-door-{uuid.uuid4().hex[:8]}")
        self.client.on_connect = lambda c, *a: c.subscribe(
            f"shelterwatch/doors/{shelter_id}/command", qos=1)
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.on_message = self._on_command

    def start(self) -> Door:
        try:
            self.client.connect(self.host, self.port, keepalive=30)
        except OSError as exc:
            raise RuntimeError(f"no MQTT broker at {self.host}:{self.port} ({exc})") from None
        self.client.loop_start()
        if not self.subscribed.wait(5):
            raise RuntimeError("the door controller could not subscribe on the MQTT broker")
        self.publish()
        return self

    def publish(self) -> None:
        self.pending = True
        self.client.publish(f"shelterwatch/doors/{self.shelter_id}/state",
                            orjson.dumps({"state": self.state}), qos=1)

    def _on_command(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        if orjson.loads(msg.payload).get("command") == "unlock" and self.state != "unlocked":
            self.state = "unlocked"
            self.witness.door_opened("door controller unlocks the clinic door")
            self.publish()

    def busy(self, url: str) -> bool:
        """Whether the last state published is not yet recorded by the worker."""
        if not self.pending:
            return False
        with db.transaction(url) as s:
            row = s.get(DoorController, self.shelter_id)
            seen = row is not None and row.last_state == self.state
        if seen:
            self.pending = False
        return not seen

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
