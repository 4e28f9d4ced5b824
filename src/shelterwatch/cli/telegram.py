"""`shelterwatch telegram webhook URL | poll`: connect the residents' bot to Telegram."""

from __future__ import annotations

import logging
from typing import Annotated, Any

import httpx
import typer

from shelterwatch import logs
from shelterwatch.channels.telegram.poll import ALLOWED, Poller
from shelterwatch.cli.common import console, fail, one_line_errors
from shelterwatch.config import get_settings
from shelterwatch.notify.base import DeliveryError
from shelterwatch.notify.telegram import TelegramChannel

app = typer.Typer(help="The residents' Telegram bot: set its webhook, or poll instead.",
                  no_args_is_help=True)


@app.command("webhook")
@one_line_errors
def set_webhook(url: Annotated[str, typer.Argument(help="https://<host>/v1/channels/"
                                                        "telegram/webhook")]) -> None:
    """Tell Telegram where to deliver updates, with the secret it must send back."""
    settings = get_settings()
    if not settings.telegram_webhook_secret:
        raise fail("set SHELTERWATCH_TELEGRAM_WEBHOOK_SECRET first (1-256 of A-Z a-z 0-9 _ -)")
    try:
        TelegramChannel(settings).call("setWebhook", {
            "url": url, "secret_token": settings.telegram_webhook_secret,
            "allowed_updates": ALLOWED})
    except DeliveryError as exc:
        raise fail(exc.detail) from None
    console.print(f"telegram: webhook set to {url}")


@app.command("poll")
@one_line_errors
def poll(server: Annotated[str, typer.Option(help="the shelterwatch server to hand updates to")]
         = "http://127.0.0.1:8000",
         once: Annotated[bool, typer.Option(help="one round, then exit")] = False,
         verbose: Annotated[bool, typer.Option("-v")] = False) -> None:
    """Long-poll Telegram (no webhook needed) and hand each update to the server."""
    settings = get_settings()
    logs.configure(settings.log_format, logging.INFO if verbose else logging.WARNING)
    if not settings.telegram_webhook_secret:
        raise fail("set SHELTERWATCH_TELEGRAM_WEBHOOK_SECRET (the server checks it)")
    target = f"{server.rstrip('/')}/v1/channels/telegram/webhook"
    headers = {"X-Telegram-Bot-Api-Secret-Token": settings.telegram_webhook_secret}

    def forward(update: dict[str, Any]) -> bool:
        try:
            answer = httpx.post(target, json=update, headers=headers, timeout=30)
        except httpx.HTTPError:
            return False
        return answer.status_code < 500 and answer.status_code != 401

    poller = Poller(TelegramChannel(settings), forward)
    while True:
        taken = poller.poll_once()
        if once:
            console.print(f"telegram: {taken} updates handed to {server}")
            return
