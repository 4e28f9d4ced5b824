"""What every channel receives and how it says a delivery failed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Message:
    """One message to one address; channels render what they can of it."""

    address: str  # a URL, e-mail address, phone number or Telegram chat id
    subject: str
    text: str
    link: str | None = None
    delivery_key: str = ""  # stable across retries, so a receiver can drop repeats
    data: dict[str, Any] = field(default_factory=dict)


class DeliveryError(Exception):
    """A send that did not happen; `retryable` says whether trying again later may help."""

    def __init__(self, detail: str, *, retryable: bool = True,
                 retry_after_s: float | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retryable = retryable
        self.retry_after_s = retry_after_s


class Channel(Protocol):
    name: str

    def send(self, message: Message) -> str | None:
        """Deliver the message or raise DeliveryError; returns the provider's id if any."""
        ...


def http_failure(status_code: int, body: str, *, what: str) -> DeliveryError:
    """Server errors and throttling are worth retrying; other 4xx answers are not."""
    retryable = status_code >= 500 or status_code in (408, 429)
    return DeliveryError(f"{what} answered {status_code}: {body[:200]}", retryable=retryable)
