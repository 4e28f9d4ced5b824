"""What the ladder tells people, one builder per outbound message, worded by the catalogue.

Keyholders, owners and the operator desk may read either language, so every notice carries both:
the title as "українською / in English", the body as two paragraphs. A notice says only what
residents reported and what is asked of the reader, never what we hope has happened.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from shelterwatch.config import Settings
from shelterwatch.escalation import links
from shelterwatch.messages.catalogue import LANGS, Renderer
from shelterwatch.notify.base import Message
from shelterwatch.vocabulary import ObservationKind


@dataclass(frozen=True, slots=True)
class Notice:
    title: str
    body: str


def _both(key: str, **params: object) -> Notice:
    words = [Renderer(lang) for lang in LANGS]
    return Notice(title=" / ".join(w(f"{key}.title", params) for w in words),
                  body="\n".join(w(f"{key}.body", params) for w in words))


def check_in(*, where: str) -> Notice:
    """An alert started: the keyholder is asked to open the shelter and confirm."""
    return _both("notice.check_in", where=where)


def case(*, kind: str, where: str, tracking_id: str) -> Notice:
    """A keyholder's or owner's news of a case: a locked door, or people refused entry."""
    key = "notice.refused" if kind == ObservationKind.REFUSED.value else "notice.locked"
    return _both(key, where=where, tracking_id=tracking_id)


def operator(*, where: str, tracking_id: str) -> Notice:
    """The desk's alarm: still locked after the escalation delay; forcing the door is theirs."""
    return _both("notice.operator", where=where, tracking_id=tracking_id)


def owner_report(*, shelter_id: int, kind: str, ident: str) -> Notice:
    """Outside an alert a report goes to the owner, and counts against them until fixed."""
    return _both("notice.owner", shelter_id=shelter_id, kind=kind, ident=ident)


def check_in_link(settings: Settings, *, keyholder_id: int, shelter_id: int,
                  now: datetime) -> str:
    """The one-tap check-in link for one keyholder and shelter (the one place it is built)."""
    token = links.make_token(settings.secret_key, keyholder_id=keyholder_id,
                             shelter_id=shelter_id, now=now)
    return links.url(settings.public_base_url, token)


def sign_check_in(settings: Settings, message: Message, *, now: datetime) -> Message:
    """A check-in queued without its link (an alert start's fan-out, which SQL cannot sign)
    gets it as it is sent; every other message goes as queued."""
    data = message.data
    if message.link is not None or data.get("event") != "check_in" or "keyholder_id" not in data:
        return message
    return replace(message, link=check_in_link(
        settings, keyholder_id=int(data["keyholder_id"]), shelter_id=int(data["shelter_id"]),
        now=now))
