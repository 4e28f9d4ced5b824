"""E-mail over SMTP, configured by one URL: smtp://user:pass@host:port, smtps://…, ?starttls=1."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

from shelterwatch.config import Settings
from shelterwatch.notify.base import DeliveryError, Message


class EmailChannel:
    name = "email"

    def __init__(self, settings: Settings) -> None:
        if not settings.smtp_url:
            raise ValueError("the email channel needs SHELTERWATCH_SMTP_URL")
        url = urlsplit(settings.smtp_url)
        if url.scheme not in ("smtp", "smtps"):
            raise ValueError(f"SHELTERWATCH_SMTP_URL must be smtp:// or smtps://, not {url.scheme}")
        self.ssl = url.scheme == "smtps"
        self.host = url.hostname or "localhost"
        self.port = url.port or (465 if self.ssl else 25)
        self.user = unquote(url.username) if url.username else None
        self.password = unquote(url.password) if url.password else None
        self.starttls = parse_qs(url.query).get("starttls", ["0"])[0] in ("1", "true")
        self.sender = settings.smtp_from
        self.timeout_s = settings.notify_timeout_s

    def send(self, message: Message) -> str | None:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.address
        mail["Subject"] = message.subject
        msgid = make_msgid(idstring=message.delivery_key.replace(":", ".") or None,
                           domain="shelterwatch")
        mail["Message-ID"] = msgid
        mail.set_content(message.text + (f"\n\n{message.link}\n" if message.link else "\n"))
        smtp_cls = smtplib.SMTP_SSL if self.ssl else smtplib.SMTP
        try:
            with smtp_cls(self.host, self.port, timeout=self.timeout_s) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"recipient refused: {exc.recipients!r}",
                                retryable=False) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"smtp {self.host}:{self.port}: {exc!r}") from exc
        return msgid
