"""Telegram Bot API `sendMessage`; the base URL is configurable for a local Bot API server."""

from __future__ import annotations

import httpx

from shelterwatch.config import Settings
from shelterwatch.notify.base import DeliveryError, Message
from shelterwatch.notify.http import pooled_client

CONNECTIONS = 32  # as many as the lane sends at once (notify.registry)


class TelegramChannel:
    name = "telegram"

    def __init__(self, settings: Settings) -> None:
        if not settings.telegram_bot_token:
            raise ValueError("the telegram channel needs SHELTERWATCH_TELEGRAM_BOT_TOKEN")
        self.endpoint = (f"{settings.telegram_api_url.rstrip('/')}"
                         f"/bot{settings.telegram_bot_token}/sendMessage")
        self.timeout_s = settings.notify_timeout_s
        self.client = pooled_client(timeout_s=self.timeout_s, connections=CONNECTIONS)

    def send(self, message: Message) -> str | None:
        text = f"{message.subject}\n\n{message.text}"
        if message.link:
            text += f"\n{message.link}"
        try:
            response = self.client.post(self.endpoint, json={
                "chat_id": message.address, "text": text[:4096],
                "link_preview_options": {"is_disabled": True},
            })
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise DeliveryError(f"telegram: {exc!r}") from exc
        # The Bot API answers {"ok": true, "result": Message} or
        # {"ok": false, "error_code": n, "description": "...", "parameters": {"retry_after": s}}.
        if body.get("ok") is True:
            return str(body.get("result", {}).get("message_id", "")) or None
        code = int(body.get("error_code") or response.status_code)
        retry_after = (body.get("parameters") or {}).get("retry_after")
        raise DeliveryError(
            f"telegram answered {code}: {body.get('description', '')}",
            retryable=code >= 500 or code == 429,
            retry_after_s=float(retry_after) if retry_after is not None else None,
        )

    def close(self) -> None:
        self.client.close()
