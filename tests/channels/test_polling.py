"""Long polling: updates fetched with getUpdates reach the same handler as the webhook's."""

from __future__ import annotations

from shelterwatch.channels.telegram.poll import Poller
from shelterwatch.notify.telegram import TelegramChannel
from tests.channels.conftest import Town


def test_polled_updates_are_answered_like_webhook_ones_and_none_is_lost(town: Town) -> None:
    town.api.scripted["getUpdates"] = ["error_429", "getUpdates", "getUpdates"]
    refuse_first = {"left": 1}
    waited: list[float] = []

    def forward(update: dict) -> bool:
        if refuse_first["left"]:  # the server is restarting: this update must come again
            refuse_first["left"] -= 1
            return False
        return town.update(update).status_code == 200

    poller = Poller(TelegramChannel(town.settings), forward, timeout_s=0, sleep=waited.append)
    assert poller.poll_once() == 0  # 429: waits retry_after
    assert waited == [1.0]
    assert poller.poll_once() == 0 and poller.offset is None  # the server did not take it
    assert poller.poll_once() == 2  # the same updates again, both taken
    assert poller.offset == 734529873
    assert poller.poll_once() == 0
    methods = [c.method for c in town.api.calls]
    assert methods[0] == "deleteWebhook"  # getUpdates is refused while a webhook is set
    last_poll = [c for c in town.api.calls if c.method == "getUpdates"][-1]
    assert last_poll.params["offset"] == 734529873
    town.api.calls.clear()
    town.drain(7)  # six for the location, the welcome for /start
    assert len(town.api.sent("sendLocation")) == 3
