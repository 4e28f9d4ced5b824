"""Talking to door controllers over MQTT (DESIGN §2): commands out, state messages in.

Topics: `shelterwatch/doors/{shelter_id}/command` (we publish `{"command": "unlock", ...}`, QoS 1)
and `shelterwatch/doors/{shelter_id}/state` (controllers publish `{"state": "unlocked"|"locked"|
"open"|"closed", "at"?: ISO-8601}`). The broker is `SHELTERWATCH_MQTT_URL`
(mqtt://user:pass@host:port).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from urllib.parse import unquote, urlsplit

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from shelterwatch.config import Settings
from shelterwatch.notify.base import DeliveryError, Message

logger = logging.getLogger(__name__)

COMMAND_TOPIC = "shelterwatch/doors/{shelter_id}/command"
STATE_SUBSCRIPTION = "shelterwatch/doors/+/state"
INFLIGHT = 256


def make_client(url: str, client_id: str, *, inflight: int | None = None) -> mqtt.Client:
    """A connected paho client (network loop started) for an mqtt:// URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts", "tcp"):
        raise ValueError(f"SHELTERWATCH_MQTT_URL must be mqtt://host:port, not {url!r}")
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                         clean_session=True)
    if parts.username:
        client.username_pw_set(unquote(parts.username), unquote(parts.password or ""))
    if parts.scheme == "mqtts":
        client.tls_set()
    if inflight is not None:
        client.max_inflight_messages_set(inflight)
    client.connect(parts.hostname or "127.0.0.1", parts.port or 1883, keepalive=30)
    client.loop_start()
    return client


def shelter_of(topic: str) -> int | None:
    """The shelter id in a state topic, or None for a topic that is not ours."""
    parts = topic.split("/")
    if len(parts) != 4 or parts[:2] != ["shelterwatch", "doors"] or parts[3] != "state":
        return None
    try:
        return int(parts[2])
    except ValueError:
        return None


class DoorCommandChannel:
    """An outbox channel whose address is a shelter id: one `unlock`, published with QoS 1."""

    name = "door"

    def __init__(self, settings: Settings) -> None:
        if not settings.mqtt_url:
            raise ValueError("the door channel needs SHELTERWATCH_MQTT_URL")
        self.url = settings.mqtt_url
        self.timeout_s = settings.notify_timeout_s
        self._client: mqtt.Client | None = None
        self._lock = threading.Lock()

    def _connected(self) -> mqtt.Client:
        with self._lock:
            if self._client is None:
                # The door lane's senders publish side by side: let their QoS 1 messages be
                # in flight together rather than paho's 20 at a time.
                self._client = make_client(self.url, f"shelterwatch-cmd-{uuid.uuid4().hex[:8]}",
                                           inflight=INFLIGHT)
            return self._client

    def send(self, message: Message) -> str | None:
        payload = orjson.dumps({"command": message.data.get("command", "unlock"),
                                "reason": message.subject, "id": message.delivery_key})
        topic = COMMAND_TOPIC.format(shelter_id=int(message.address))
        try:
            info = self._connected().publish(topic, payload, qos=1)
            info.wait_for_publish(timeout=self.timeout_s)
        except (OSError, RuntimeError, ValueError) as exc:
            with self._lock:
                self._client = None
            raise DeliveryError(f"mqtt publish to {topic}: {exc!r}") from exc
        if not info.is_published():
            raise DeliveryError(f"mqtt broker did not acknowledge {topic}")
        return str(info.mid)

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.loop_stop()
                self._client.disconnect()
                self._client = None


StateHandler = Callable[[int, dict[str, object]], None]


class StateListener:
    """Subscribes to every controller's state topic and hands (shelter_id, message) on."""

    def __init__(self, url: str, handler: StateHandler) -> None:
        self.url = url
        self.handler = handler
        self.client: mqtt.Client | None = None
        self.subscribed = threading.Event()

    def start(self) -> None:
        client = mqtt.Client(CallbackAPIVersion.VERSION2,
                             client_id=f"shelterwatch-doors-{uuid.uuid4().hex[:8]}")
        parts = urlsplit(self.url)
        if parts.username:
            client.username_pw_set(unquote(parts.username), unquote(parts.password or ""))
        client.on_connect = self._on_connect
        client.on_subscribe = lambda *a: self.subscribed.set()
        client.on_message = self._on_message
        client.connect(parts.hostname or "127.0.0.1", parts.port or 1883, keepalive=30)
        client.loop_start()
        self.client = client

    def _on_connect(self, client: mqtt.Client, *_: object) -> None:
        # Subscribing on every (re)connect keeps the subscription after a broker restart.
        client.subscribe(STATE_SUBSCRIPTION, qos=1)

    def _on_message(self, _client: mqtt.Client, _userdata: object,
                    msg: mqtt.MQTTMessage) -> None:
        shelter_id = shelter_of(msg.topic)
        if shelter_id is None:
            return
        try:
            body = orjson.loads(msg.payload)
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except ValueError:
            logger.warning("door %s sent an unreadable state: %r", shelter_id, msg.payload[:100])
            return
        try:
            self.handler(shelter_id, body)
        except Exception:
            logger.exception("handling the state of door %s failed", shelter_id)

    def stop(self) -> None:
        if self.client is not None:
            self.client.loop_stop()
            self.client.disconnect()
            self.client = None
