"""Telegram Bot API over plain httpx; the base URL is configurable for a local Bot API server.

Why no bot framework (aiogram, python-telegram-bot): every send here goes through the durable
outbox, claimed by the worker's threads and paced by the outbox's limits. A framework brings its
own event loop, dispatcher, retry and flood-control logic that would compete with that, for the
five methods the bot uses (sendMessage, sendLocation, answerCallbackQuery, getUpdates,
setWebhook). The request and response shapes are the Bot API's documented JSON.
"""

from __future__ import annotations

from typing import Any

import httpx

from shelterwatch.config import Settings
from shelterwatch.notify.base import DeliveryError, Message

NO_CHAT_ID = frozenset({"answerCallbackQuery"})  # methods addressed by something else


class TelegramChannel:
    name = "telegram"

    def __init__(self, settings: Settings) -> None:
        if not settings.telegram_bot_token:
            raise ValueError("the telegram channel needs SHELTERWATCH_TELEGRAM_BOT_TOKEN")
        self.base = f"{settings.telegram_api_url.rstrip('/')}/bot{settings.telegram_bot_token}"
        # One pooled client: keep-alive spares a TLS handshake per message under a surge.
        self.client = httpx.Client(timeout=settings.notify_timeout_s)

    def close(self) -> None:
        self.client.close()

    def call(self, method: str, params: dict[str, Any]) -> Any:
        """One Bot API call; its `result`, or DeliveryError (with `retry_after` on a 429)."""
        try:
            response = self.client.post(f"{self.base}/{method}", json=params)
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise DeliveryError(f"telegram {method}: {exc!r}") from exc
        # The Bot API answers {"ok": true, "result": …} or
        # {"ok": false, "error_code": n, "description": "...", "parameters": {"retry_after": s}}.
        if isinstance(body, dict) and body.get("ok") is True:
            return body.get("result")
        body = body if isinstance(body, dict) else {}
        code = int(body.get("error_code") or response.status_code)
        retry_after = (body.get("parameters") or {}).get("retry_after")
        raise DeliveryError(
            f"telegram {method} answered {code}: {body.get('description', '')}",
            retryable=code >= 500 or code == 429,
            retry_after_s=float(retry_after) if retry_after is not None else None,
        )

    def send(self, message: Message) -> str | None:
        planned = message.data.get("telegram")
        if isinstance(planned, dict):  # the bot's own calls: a pin, buttons, a callback answer
            params = {k: v for k, v in planned.items() if k != "method"}
            method = str(planned.get("method", "sendMessage"))
            if method not in NO_CHAT_ID:
                params["chat_id"] = message.address
        else:
            method = "sendMessage"
            text = f"{message.subject}\n\n{message.text}"
            if message.link:
                text += f"\n{message.link}"
            params = {"chat_id": message.address, "text": text[:4096],
                      "link_preview_options": {"is_disabled": True}}
        result = self.call(method, params)
        if isinstance(result, dict) and "message_id" in result:
            return str(result["message_id"])
        return None
