"""Long polling, for a machine Telegram cannot reach with webhooks (no public HTTPS address).

`getUpdates` is asked for new updates (waiting up to `timeout_s` server-side), and each is handed
to the same webhook handler the server runs, over HTTP with the secret. The offset moves past an
update only once the server took it, so a server restart loses none; Telegram keeps unfetched
updates for 24 hours. A 429 waits its `retry_after`. Telegram refuses getUpdates while a webhook
is set, so polling begins by deleting it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from shelterwatch.notify.base import DeliveryError
from shelterwatch.notify.telegram import TelegramChannel

logger = logging.getLogger(__name__)
ALLOWED = ["message", "callback_query"]


class Poller:
    def __init__(self, api: TelegramChannel, forward: Callable[[dict[str, Any]], bool], *,
                 timeout_s: int = 25, sleep: Callable[[float], None] = time.sleep) -> None:
        self.api = api
        self.forward = forward  # True once the server took the update
        self.timeout_s = timeout_s
        self.sleep = sleep
        self.offset: int | None = None
        self.started = False

    def poll_once(self) -> int:
        """One getUpdates round; returns how many updates the server took."""
        try:
            if not self.started:
                self.api.call("deleteWebhook", {"drop_pending_updates": False})
                self.started = True
            params: dict[str, Any] = {"timeout": self.timeout_s, "allowed_updates": ALLOWED}
            if self.offset is not None:
                params["offset"] = self.offset
            updates = self.api.call("getUpdates", params) or []
        except DeliveryError as exc:
            logger.warning("telegram getUpdates: %s", exc.detail)
            self.sleep(exc.retry_after_s if exc.retry_after_s is not None else 5.0)
            return 0
        taken = 0
        for update in updates:
            if not self.forward(update):
                logger.warning("the server did not take update %s; asking again",
                               update.get("update_id"))
                self.sleep(1.0)
                break
            self.offset = int(update["update_id"]) + 1
            taken += 1
        return taken
