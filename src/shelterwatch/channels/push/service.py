"""Push subscriptions and what they are sent. Nothing here commits.

A subscription is the browser's own (endpoint and keys); the server keeps it with the area the
page was in (never the position) and the shelters the page showed, each for an hour. When one of
those shelters is reported locked, the browser is told where to go instead — first in the outbox,
before alerts and everything else.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from shelterwatch.channels import texts
from shelterwatch.channels.models import PushShown, PushSubscription
from shelterwatch.log import service as log
from shelterwatch.messages.catalogue import Renderer
from shelterwatch.outbox import service as outbox
from shelterwatch.outbox.service import Outgoing, Priority
from shelterwatch.vocabulary import FactKind

ACTOR = "push"
MAX_SHOWN = 10


def endpoint_digest(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode()).hexdigest()


def subscribe(session: Session, *, endpoint: str, p256dh: str, auth: str, language: str,
              area_id: str | None, shown: Sequence[int], now: datetime,
              days: int) -> PushSubscription:
    """Create or renew the subscription for this endpoint and note the shelters just shown."""
    key = endpoint_digest(endpoint)
    row = session.execute(select(PushSubscription).where(
        PushSubscription.endpoint_digest == key)).scalar_one_or_none()
    created = row is None
    if row is None:
        row = PushSubscription(endpoint_digest=key, endpoint=endpoint, created_at=now)
        session.add(row)
    row.p256dh, row.auth, row.language, row.area_id = p256dh, auth, language, area_id
    row.expires_at = now + timedelta(days=days)
    session.flush()
    ids = sorted(set(shown))[:MAX_SHOWN]
    if ids:
        session.execute(delete(PushShown).where(PushShown.subscription_id == row.id,
                                                PushShown.shelter_id.in_(ids)))
        session.add_all(PushShown(subscription_id=row.id, shelter_id=i, shown_at=now)
                        for i in ids)
    log.append(session, kind=FactKind.PUSH_SUBSCRIBED, actor=ACTOR, now=now,
               payload={"subscription": row.id, "created": created, "area_id": area_id,
                        "shown": ids, "expires_at": row.expires_at.isoformat()},
               private={"endpoint": endpoint})
    return row


def address(row: PushSubscription) -> str:
    """The outbox address: the subscription as the push channel sends to it."""
    return orjson.dumps({"endpoint": row.endpoint,
                         "keys": {"p256dh": row.p256dh, "auth": row.auth}}).decode()


def redirect(session: Session, *, shelter_id: int, status: str, instead: dict[str, Any] | None,
             seq: int, now: datetime, window_s: float) -> int:
    """"Reported locked — go to X": to every live subscription shown this shelter lately."""
    since = now - timedelta(seconds=window_s)
    rows = session.execute(
        select(PushSubscription).join(PushShown, PushShown.subscription_id == PushSubscription.id)
        .where(PushShown.shelter_id == shelter_id, PushShown.shown_at >= since,
               PushSubscription.expires_at > now)).scalars().all()
    subject = f"shelter:{shelter_id}:{status}:{seq}"
    outgoing = []
    for row in rows:
        lang = row.language
        title = Renderer(lang)("push.redirect_title")
        body = texts.go_instead(instead, lang)
        target = instead["shelter"]["properties"]["id"] if instead else None
        outgoing.append(Outgoing(
            subject=subject, step="redirect", recipient=f"push:{row.id}", channel="push",
            address=address(row), title=title,
            body=Renderer(lang)("push.redirect_body",
                                {"id": shelter_id, "title": title.lower(), "go": body}),
            link=f"/?shelter={target}" if target else "/",
            data={"kind": "redirect", "locked": shelter_id, "instead": target},
            priority=Priority.REDIRECT))
    return outbox.enqueue_many(session, outgoing, now=now, actor=ACTOR, subject=subject,
                               step="redirect")


def alert_outgoing(session: Session, *, areas: Sequence[str], subject: str, step: str,
                   names: tuple[str, str], started: bool, now: datetime) -> list[Outgoing]:
    """An alert's start or end for every live subscription in the areas it covers."""
    found: list[Outgoing] = []
    for start in range(0, len(areas), 500):
        rows = session.execute(select(PushSubscription).where(
            PushSubscription.area_id.in_(areas[start:start + 500]),
            PushSubscription.expires_at > now)).scalars()
        for row in rows:
            lang = row.language
            text = texts.alert_news(started, names[1] if lang == "en" else names[0], lang)
            found.append(Outgoing(
                subject=subject, step=step, recipient=f"push:{row.id}", channel="push",
                address=address(row), title=text.split(".")[0], body=text, link="/",
                data={"kind": step},
                priority=Priority.ALERT_STARTED if started else Priority.ALERT_ENDED))
    return found


def forget_expired(session: Session, *, now: datetime, shown_window_s: float) -> int:
    """Delete subscriptions past their date (and shelters shown over the window ago); returns
    how many subscriptions went, each expiry recorded in one fact."""
    session.execute(delete(PushShown).where(
        PushShown.shown_at < now - timedelta(seconds=shown_window_s)))
    expired = list(session.execute(select(PushSubscription.id).where(
        PushSubscription.expires_at <= now)).scalars())
    if not expired:
        return 0
    session.execute(delete(PushShown).where(PushShown.subscription_id.in_(expired)))
    session.execute(delete(PushSubscription).where(PushSubscription.id.in_(expired)))
    log.append(session, kind=FactKind.PUSH_EXPIRED, actor=ACTOR, now=now,
               payload={"subscriptions": expired})
    return len(expired)
