"""Follows (a chat or phone following a case or an area) and the news they are sent.

The worker calls `on_facts` with every new fact: a case's news goes to those who reported it, an
alert's start and end to everyone following an area it covers, "go to X instead" to every chat
shown a shelter in the last hour that is now reported locked, each as an outbox delivery (so a
send is durable, paced by the channel's limits and never repeated). Nothing here commits.

A shelter a chat was shown is a follow of `shown:<shelter id>` that expires after the window.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shelterwatch.areas.models import Area
from shelterwatch.channels import elsewhere, texts
from shelterwatch.channels.models import Follow
from shelterwatch.channels.push import service as push
from shelterwatch.incidents.models import Incident
from shelterwatch.log import service as log
from shelterwatch.log.models import Fact
from shelterwatch.outbox import service as outbox
from shelterwatch.outbox.service import Outgoing, Priority
from shelterwatch.rules import ranking
from shelterwatch.shelters.index import ShelterIndex
from shelterwatch.vocabulary import FactKind, Noun, Status, Subject, subject_of

ACTOR = "channels"
SHOWN = "shown:"
MAX_SHOWN = 10


def digest(secret: str, channel: str, address: str) -> str:
    """A keyed digest of a private address: finds its rows, and names it in delivery keys,
    without the address itself (a bare hash of a phone number is reversed by trying them all)."""
    return hmac.new(secret.encode(), f"{channel}:{address}".encode(), hashlib.sha256).hexdigest()


def device_id(secret: str, channel: str, address: str) -> str:
    """The device id a chat or phone reports under: stable per chat, private, never the id."""
    return f"{channel[:2]}-{digest(secret, channel, address)[:32]}"


def recipient(secret: str, channel: str, address: str) -> str:
    return f"resident:{digest(secret, channel, address)[:24]}:{channel}"


def follow(session: Session, *, channel: str, address: str, subject: str, language: str,
           secret: str, now: datetime, expires_at: datetime | None = None) -> bool:
    """Follow a subject; False when already following. The log records that a resident on this
    channel follows it, never who."""
    key = digest(secret, channel, address)
    held = session.execute(select(Follow.id).where(
        Follow.channel == channel, Follow.address_digest == key, Follow.subject == subject)
    ).scalar_one_or_none()
    if held is not None:
        return False
    try:
        with session.begin_nested():
            session.add(Follow(channel=channel, address=address, address_digest=key,
                               subject=subject, language=language, created_at=now,
                               expires_at=expires_at))
            session.flush()
    except IntegrityError:  # the same follow, committed meanwhile
        return False
    log.append(session, kind=FactKind.CHANNEL_FOLLOWED, actor=ACTOR, now=now,
               payload={"channel": channel, "subject": subject},
               private={"address": address})
    return True


def unfollow(session: Session, *, channel: str, address: str, secret: str, now: datetime,
             prefix: str = f"{Noun.AREA}:") -> int:
    """Stop following every subject starting with `prefix`; returns how many."""
    key = digest(secret, channel, address)
    subjects = list(session.execute(select(Follow.subject).where(
        Follow.channel == channel, Follow.address_digest == key,
        Follow.subject.startswith(prefix))).scalars())
    if not subjects:
        return 0
    session.execute(delete(Follow).where(Follow.channel == channel, Follow.address_digest == key,
                                         Follow.subject.in_(subjects)))
    log.append(session, kind=FactKind.CHANNEL_UNFOLLOWED, actor=ACTOR, now=now,
               payload={"channel": channel, "subjects": sorted(subjects)},
               private={"address": address})
    return len(subjects)


def shown(session: Session, *, channel: str, address: str, shelter_ids: Sequence[int],
          language: str, secret: str, now: datetime, window_s: float) -> list[int]:
    """Note the shelters a chat was just sent towards, for `window_s`: should one be reported
    locked meanwhile, the chat is told where to go instead. Showing one again renews it."""
    ids = sorted(set(shelter_ids))[:MAX_SHOWN]
    if not ids:
        return []
    key = digest(secret, channel, address)
    until = now + timedelta(seconds=window_s)
    for shelter_id in ids:
        subject = f"{SHOWN}{shelter_id}"
        mine = (Follow.channel == channel, Follow.address_digest == key, Follow.subject == subject)
        renewed = session.execute(update(Follow).where(*mine).values(
            expires_at=until, language=language))
        if getattr(renewed, "rowcount", 0):
            continue
        try:
            with session.begin_nested():
                session.add(Follow(channel=channel, address=address, address_digest=key,
                                   subject=subject, language=language, created_at=now,
                                   expires_at=until))
                session.flush()
        except IntegrityError:  # shown to this chat in another request meanwhile
            session.execute(update(Follow).where(*mine).values(expires_at=until))
    log.append(session, kind=FactKind.CHANNEL_SHOWN, actor=ACTOR, now=now,
               payload={"channel": channel, "shelters": ids, "expires_at": until.isoformat()},
               private={"address": address})
    return ids


def forget_expired(session: Session, *, now: datetime) -> int:
    """Delete follows past their date (shelters shown over the window ago), in one fact."""
    done = session.execute(delete(Follow).where(Follow.expires_at <= now))
    gone = int(getattr(done, "rowcount", 0) or 0)
    if gone:
        log.append(session, kind=FactKind.CHANNEL_EXPIRED, actor=ACTOR, now=now,
                   payload={"follows": gone})
    return gone


def _message(follower: Follow, *, subject: str, step: str, text: str, priority: int,
             secret: str) -> Outgoing:
    data: dict[str, Any] = {}
    if follower.channel == "telegram":
        data = {"telegram": {"method": "sendMessage", "text": text}}
    return Outgoing(subject=subject, step=step,
                    recipient=recipient(secret, follower.channel, follower.address),
                    channel=follower.channel, address=follower.address, title="shelterwatch",
                    body=text, data=data, priority=priority)


# Facts that are news for a case's reporters → (update kind, detail from the payload).
def _case_news(fact: Fact, payload: dict[str, Any]) -> tuple[int, str, str] | None:
    kind = fact.kind
    if kind == FactKind.INCIDENT_RESOLVED:
        return int(payload["id"]), str(payload["resolution"]), ""
    if kind == FactKind.TASK_TAKEN and payload.get("incident_id"):
        eta = payload.get("eta_s")
        return int(payload["incident_id"]), "patrol_on_way", (
            texts.minutes(float(eta)) if eta is not None else "")
    if kind == FactKind.INCIDENT_ESCALATED and payload.get("id"):
        return int(payload["id"]), "escalated", ""
    incident = subject_of(payload.get("subject"), Noun.INCIDENT)
    if (kind == FactKind.NOTIFICATION_SENT and payload.get("step") == "notify_keyholders"
            and incident is not None):
        return incident.number, "keyholder_reached", ""
    return None


@dataclass(frozen=True, slots=True)
class Places:
    """What a redirect needs to name the other shelter: the registry and statuses in memory."""

    index: ShelterIndex
    model: ranking.WalkingModel
    shown_window_s: float


LOCKED = frozenset({Status.LOCKED_REPORTED.value, Status.LOCKED_CONFIRMED.value})


def acts_on(fact: Fact, *, places: bool) -> bool:
    """Whether `on_facts` may queue anything for this fact (`places`: redirects are on)."""
    if fact.kind in (FactKind.ALERT_STARTED, FactKind.ALERT_ENDED):
        return True
    if fact.kind == FactKind.STATUS_CHANGED:
        return places
    return _case_news(fact, orjson.loads(fact.payload)) is not None


def on_facts(session: Session, facts: Sequence[Fact], *, now: datetime, secret: str,
             places: Places | None = None) -> int:
    """Queue the news these facts are for followers; returns how many messages were queued.

    With `places` (the worker keeps them when push or Telegram is on), a shelter newly reported
    locked sends "go to X instead" to the browsers and chats shown it in the last hour, first of
    all.
    """
    queued = 0
    for fact in facts:
        if fact.kind in (FactKind.ALERT_STARTED, FactKind.ALERT_ENDED):
            queued += alert_news(session, orjson.loads(fact.payload),
                                 started=fact.kind == FactKind.ALERT_STARTED, now=now,
                                 secret=secret)
            continue
        if fact.kind == FactKind.STATUS_CHANGED and places is not None:
            changed = orjson.loads(fact.payload)
            if changed.get("status") in LOCKED and changed.get("previous") not in LOCKED:
                shelter_id = int(changed["shelter_id"])
                instead = elsewhere.instead(places.index, places.model, shelter_id)
                status = str(changed["status"])
                queued += push.redirect(
                    session, shelter_id=shelter_id, status=status, instead=instead,
                    seq=fact.seq, now=now, window_s=places.shown_window_s)
                queued += redirect(session, shelter_id=shelter_id, status=status,
                                   instead=instead, seq=fact.seq, now=now, secret=secret)
            continue
        news = _case_news(fact, orjson.loads(fact.payload))
        if news is not None:
            queued += case_news(session, *news, seq=fact.seq, now=now, secret=secret)
    return queued


def redirect(session: Session, *, shelter_id: int, status: str, instead: dict[str, Any] | None,
             seq: int, now: datetime, secret: str) -> int:
    """"Reported locked — go to X": to every chat shown this shelter within the window."""
    followers = session.execute(select(Follow).where(
        Follow.subject == f"{SHOWN}{shelter_id}", Follow.expires_at > now)).scalars().all()
    subject = f"shelter:{shelter_id}:{status}:{seq}"
    outgoing = [_message(f, subject=subject, step="redirect",
                         text=texts.redirect(shelter_id, instead, f.language),
                         priority=Priority.REDIRECT, secret=secret) for f in followers]
    return outbox.enqueue_many(session, outgoing, now=now, actor=ACTOR, subject=subject,
                               step="redirect")


def case_news(session: Session, incident_id: int, kind: str, detail: str, *, seq: int,
              now: datetime, secret: str) -> int:
    """Tell everyone following the case; one delivery per (fact, follower)."""
    subject = f"incident:{incident_id}"
    followers = session.execute(select(Follow).where(Follow.subject == subject)).scalars().all()
    if not followers:
        return 0
    incident = session.get(Incident, incident_id)
    tracking_id = incident.tracking_id if incident else str(incident_id)
    step = f"news:{seq}"
    for follower in followers:
        text = texts.case_update(kind, follower.language, tracking_id=tracking_id, detail=detail)
        outbox.enqueue(session, _message(follower, subject=subject, step=step, text=text,
                                         priority=Priority.CASE_UPDATE, secret=secret),
                       now=now, actor=ACTOR)
    return len(followers)


def covered_areas(session: Session, area_id: str) -> list[str]:
    """The area and every area below it: an alert on an oblast reaches its districts' followers."""
    children: dict[str | None, list[str]] = {}
    for child, parent in session.execute(select(Area.id, Area.parent_id)):
        children.setdefault(parent, []).append(child)
    found, todo = [], [area_id]
    while todo:
        current = todo.pop()
        if current in found:
            continue
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def alert_news(session: Session, alert: dict[str, Any], *, started: bool, now: datetime,
               secret: str) -> int:
    """An alert's start or end for every follower of an area it covers, set-based."""
    area_id = str(alert["area_id"])
    area = session.get(Area, area_id)
    names = (area.name, area.name_en or area.name) if area else (area_id, area_id)
    areas = covered_areas(session, area_id)
    subjects = [str(Subject(Noun.AREA, a)) for a in areas]
    step = "alert_started" if started else "alert_ended"
    subject = f"alert:{alert['id']}"
    outgoing: list[Outgoing] = []
    for start in range(0, len(subjects), 500):
        rows = session.execute(select(Follow).where(
            Follow.subject.in_(subjects[start:start + 500]))).scalars()
        for follower in rows:
            lang = follower.language
            text = texts.alert_news(started, names[1] if lang == "en" else names[0], lang)
            outgoing.append(_message(
                follower, subject=subject, step=step, text=text, secret=secret,
                priority=Priority.ALERT_STARTED if started else Priority.ALERT_ENDED))
    outgoing += push.alert_outgoing(session, areas=areas, subject=subject, step=step,
                                    names=names, started=started, now=now)
    # One delivery per recipient even when they follow two areas the alert covers.
    unique = list({o.recipient: o for o in outgoing}.values())
    return outbox.enqueue_many(session, unique, now=now, actor=ACTOR, subject=subject, step=step)
