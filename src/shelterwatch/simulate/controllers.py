"""The night's door controllers: every simulated electronic lock on one MQTT connection.

They hear the worker's `unlock` commands on `shelterwatch/doors/{id}/command`, open the door in
the simulation's truth and report `unlocked` on the state topic, as a lock would. Only doors
the night drew a controller for answer (the broker may carry other doors' traffic).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from shelterwatch.simulate.city import DoorPlan


class Controllers:
    """Every simulated door controller on one MQTT connection: unlock on command, say so."""

    def __init__(self, mqtt_url: str, plans: Mapping[int, DoorPlan],
                 unlocked: Callable[[int], None]) -> None:
        self.plans, self.unlocked = plans, unlocked
        parts = urlsplit(mqtt_url)
        self.ready = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2,
                                  client_id=f"sim-doors-{id(self):x}")
        self.client.on_connect = lambda c, *a: c.subscribe("shelterwatch/doors/+/command", qos=1)
        self.client.on_subscribe = lambda *a: self.ready.set()
        self.client.on_message = self._command
        self.client.connect(parts.hostname or "127.0.0.1", parts.port or 1883, keepalive=30)
        self.client.loop_start()
        if not self.ready.wait(10):
            raise RuntimeError(f"no MQTT broker answered at {mqtt_url}")

    def _command(self, _client: object, _userdata: object, message: Any) -> None:
        try:
            sid = int(message.topic.split("/")[2])
            command = orjson.loads(message.payload).get("command")
        except (ValueError, IndexError, orjson.JSONDecodeError):
            return
        plan = self.plans.get(sid)
        if command != "unlock" or plan is None or not plan.controller:
            return
        self.unlocked(sid)
        self.client.publish(f"shelterwatch/doors/{sid}/state",
                            orjson.dumps({"state": "unlocked"}), qos=1)

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
