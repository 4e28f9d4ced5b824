"""The escalation worker as a real subprocess, and a simulated door controller on real MQTT."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from tests.support.server import ChildProcess

MQTT_URL = "mqtt://127.0.0.1:1883"


class WorkerProcess(ChildProcess):
    """`shelterwatch worker` with the test's environment; SIGKILL-able like a power cut."""

    def start(self, timeout_s: float = 30.0) -> WorkerProcess:
        """Returns once the worker says it runs, so tests time the ladder, not Python's start."""
        self.spawn(["shelterwatch.cli.main", "worker", "-v"])
        assert self.proc is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.log_path.exists() and "worker started" in self.log_path.read_text():
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited: {self.log_path.read_text()[-2000:]}")
            time.sleep(0.05)
        raise RuntimeError(f"worker did not start: {self.log_path.read_text()[-2000:]}")


def wait_for(predicate: Callable[[], Any], timeout_s: float = 15.0, every_s: float = 0.05,
             what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every_s)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


class SimulatedDoor:
    """A door controller: unlocks on an `unlock` command and reports its state."""

    def __init__(self, shelter_id: int, *, state: str = "locked",
                 obey: bool = True) -> None:
        self.shelter_id = shelter_id
        self.state = state
        self.obey = obey
        self.commands: list[dict[str, Any]] = []
        self.subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2,
                                  client_id=f"door-sim-{shelter_id}-{os.getpid()}")
        self.client.on_connect = lambda c, *a: c.subscribe(
            f"shelterwatch/doors/{shelter_id}/command", qos=1)
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.on_message = self._on_command

    def start(self) -> SimulatedDoor:
        self.client.connect("127.0.0.1", 1883, keepalive=30)
        self.client.loop_start()
        assert self.subscribed.wait(5), "door simulator could not subscribe"
        return self

    def _on_command(self, client: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        command = orjson.loads(msg.payload)
        self.commands.append(command)
        if self.obey and command.get("command") == "unlock":
            self.state = "unlocked"
            self.report()

    def report(self) -> None:
        self.client.publish(f"shelterwatch/doors/{self.shelter_id}/state",
                            orjson.dumps({"state": self.state}), qos=1).wait_for_publish(5)

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
