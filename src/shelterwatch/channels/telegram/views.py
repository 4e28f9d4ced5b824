"""`POST /v1/channels/telegram/webhook`: Telegram delivers each Update here.

Telegram proves itself with the secret token given to `setWebhook`, sent back in the
`X-Telegram-Bot-Api-Secret-Token` header. The answer is 200 as soon as the reply is queued; the
outbox sends it (paced by Telegram's limits, retried, never twice). A redelivered Update queues
nothing new (the deliveries are keyed by update id) and a repeated tap returns the first receipt
(the report's idempotency key is the callback query's id).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import APIRouter, Request
from pydantic import Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from shelterwatch import db
from shelterwatch.answers import Answer
from shelterwatch.areas.models import Area
from shelterwatch.channels import elsewhere, texts
from shelterwatch.channels import service as follows
from shelterwatch.channels.telegram import bot
from shelterwatch.channels.telegram.bot import Call, Incoming
from shelterwatch.clock import utcnow
from shelterwatch.config import Settings
from shelterwatch.errors import InvalidInput, ShelterwatchError, Unauthorized
from shelterwatch.incidents.models import Incident
from shelterwatch.outbox import service as outbox
from shelterwatch.outbox.service import Outgoing, Priority
from shelterwatch.reports.schemas import ReportIn
from shelterwatch.reports.views import writer_of
from shelterwatch.rules import witness as witnesses
from shelterwatch.vocabulary import Noun, Subject


class UpdateTaken(Answer):
    ok: bool
    queued: int = Field(description="reply messages queued to the chat")

router = APIRouter(tags=["channels"])
CHANNEL = "telegram"
SECRET_HEADER = "x-telegram-bot-api-secret-token"


def check_secret(settings: Settings, given: str) -> None:
    secret = settings.telegram_webhook_secret
    if not secret or not hmac.compare_digest(secret.encode(), given.encode()):
        raise Unauthorized("the Telegram webhook needs the secret token set with setWebhook "
                           "(header X-Telegram-Bot-Api-Secret-Token)")


@router.post("/v1/channels/telegram/webhook", summary="Receive Telegram Bot API updates",
             response_model=None,
             responses={200: {"description": "Queued (or nothing to do)", "model": UpdateTaken},
                        401: {"description": "Missing or wrong secret token (problem+json)"},
                        422: {"description": "Not a Telegram Update (problem+json)"}})
async def telegram_webhook(request: Request) -> dict[str, Any]:
    settings: Settings = request.app.state.settings
    check_secret(settings, request.headers.get(SECRET_HEADER, ""))
    try:
        incoming = bot.read(orjson.loads(await request.body()))
    except (orjson.JSONDecodeError, ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(f"not a Telegram Update: {exc}") from None
    if incoming is None:
        return {"ok": True, "queued": 0}
    queued = await handle(request, incoming)
    return {"ok": True, "queued": queued}


async def handle(request: Request, incoming: Incoming) -> int:
    """Work out the reply, apply what the update changes, queue the reply; returns its length."""
    settings: Settings = request.app.state.settings
    # What the chat starts following (an area, a case, the shelters it is shown), in the
    # reply's transaction.
    subjects: list[str] = []
    if incoming.location is not None:
        calls, subjects = await nearest_calls(request, *incoming.location, lang=incoming.lang)
    elif incoming.callback_id:
        calls, subjects = await tapped(request, incoming)
    else:
        calls, subjects = command(request, incoming)
    # off the event loop: the commit waits for the disk
    await run_in_threadpool(queue_reply, settings, incoming, calls, subjects)
    return len(calls)


def queue_reply(settings: Settings, incoming: Incoming, calls: list[Call],
                subjects: list[str]) -> None:
    """In one transaction: what the chat now follows, and the reply's calls in the outbox."""
    secret, now = settings.secret_key, utcnow()
    with db.transaction(settings.database_url) as session:
        shown = [int(s.removeprefix(follows.SHOWN)) for s in subjects
                 if s.startswith(follows.SHOWN)]
        follows.shown(session, channel=CHANNEL, address=incoming.chat_id, shelter_ids=shown,
                      language=incoming.lang, secret=secret, now=now,
                      window_s=settings.push_shown_window_s)
        for subject in subjects:
            if subject.startswith(follows.SHOWN):
                continue
            if subject == "-area":
                follows.unfollow(session, channel=CHANNEL, address=incoming.chat_id,
                                 secret=secret, now=now)
                continue
            follows.follow(session, channel=CHANNEL, address=incoming.chat_id, subject=subject,
                           language=incoming.lang, secret=secret, now=now)
        rcpt = follows.recipient(secret, CHANNEL, incoming.chat_id)
        for n, call in enumerate(calls):
            first = call.method == "answerCallbackQuery"  # the button's spinner turns now
            outbox.enqueue(session, Outgoing(
                subject=f"tg:{incoming.update_id}", step=f"reply:{n}", recipient=rcpt,
                channel=CHANNEL, address=incoming.chat_id, title="telegram", body=call.text,
                data=call.data(), priority=Priority.REPLY + (5 if first else 0)),
                now=now, actor="telegram")


async def nearest_calls(request: Request, lat: float, lon: float, *,
                        lang: str) -> tuple[list[Call], list[str]]:
    """The same answer `/v1/nearest` gives at this point (the process's index and ranking),
    and the shelters it shows, which the chat follows for the window."""
    nearest: Any = request.app.state.nearest
    hits = nearest.candidates(lat, lon, limit=3, step_free=False)
    routed = await nearest.routed(lat, lon, hits) if nearest.router is not None else None
    answer = nearest.answer(lat, lon, limit=3, routed=routed, hits=hits)
    shown = [f"{follows.SHOWN}{r['shelter']['properties']['id']}"
             for r in answer.get("results") or []]
    return bot.nearest_calls(answer, lang), shown


async def tapped(request: Request, incoming: Incoming) -> tuple[list[Call], list[str]]:
    tap = bot.parse_tap(incoming.callback_data)
    lang = incoming.lang
    if tap is None:
        return [bot.answer_callback(incoming.callback_id, "?")], []
    if tap[0] == "s":
        area = _area(request, str(tap[1]))
        if area is None:
            return [bot.answer_callback(incoming.callback_id, texts.t("no_area", lang))], []
        text = _subscribed_text(area, lang)
        return ([bot.answer_callback(incoming.callback_id, text),
                 Call("sendMessage", {"text": text})], [str(Subject(Noun.AREA, area.id))])
    return await report(request, incoming, int(tap[1]), str(tap[-1]))


async def report(request: Request, incoming: Incoming, shelter_id: int,
                 kind: str) -> tuple[list[Call], list[str]]:
    """A tap on a report button is a resident's report through the same writer as the web's."""
    settings: Settings = request.app.state.settings
    lang = incoming.lang
    intake_kind, reason, note = bot.REPORT_KINDS[kind]
    report = ReportIn(shelter_id=shelter_id, kind=intake_kind, reason=reason, note=note,  # type: ignore[arg-type]
                      device_id=follows.device_id(settings.secret_key, CHANNEL,
                                                  incoming.chat_id))
    try:
        receipt = await writer_of(request).submit(
            report, key=f"telegram:{incoming.callback_id}", address=None,
            witness=witnesses.channel_witness(settings.secret_key, channel=CHANNEL,
                                              address=incoming.chat_id))
    except ShelterwatchError as exc:
        text = texts.t("report_failed", lang, detail=exc.detail)
        return [bot.answer_callback(incoming.callback_id, text),
                Call("sendMessage", {"text": text})], []
    body: dict[str, Any] = receipt.body
    subjects = []
    if body.get("incident"):
        incident_id = _incident_id(settings, body["incident"]["tracking_id"])
        if incident_id is not None:
            subjects.append(f"incident:{incident_id}")
    nearest = request.app.state.nearest
    alternative = elsewhere.instead(nearest.index, nearest.model, shelter_id)
    if alternative is not None:  # the chat is sent there now: tell it if that one locks too
        subjects.append(f"{follows.SHOWN}{alternative['shelter']['properties']['id']}")
    text = texts.receipt_text(body, lang, alternative)
    return [bot.answer_callback(incoming.callback_id, text.split("\n", 1)[0]),
            Call("sendMessage", {"text": text})], subjects


def command(request: Request, incoming: Incoming) -> tuple[list[Call], list[str]]:
    """/start, /subscribe [area], /unsubscribe; anything else gets the welcome."""
    lang = incoming.lang
    word, _, rest = incoming.text.strip().partition(" ")
    word = word.split("@", 1)[0].lower()
    rest = rest.strip()
    if word == "/start" and rest.startswith("s") and rest[1:].isdigit():
        calls = shelter_calls(request, int(rest[1:]), lang)
        return calls, [f"{follows.SHOWN}{int(rest[1:])}"] if len(calls) > 1 else []
    if word == "/subscribe":
        area = _area(request, rest) if rest else None
        if area is None:
            key = "no_area" if rest else "subscribe_help"
            return [Call("sendMessage", {"text": texts.t(key, lang)})], []
        followed = str(Subject(Noun.AREA, area.id))
        return [Call("sendMessage", {"text": _subscribed_text(area, lang)})], [followed]
    if word in ("/unsubscribe", "/stop"):
        return [Call("sendMessage", {"text": texts.t("unsubscribed", lang)})], ["-area"]
    return bot.welcome_calls(lang), []


def shelter_calls(request: Request, shelter_id: int, lang: str) -> list[Call]:
    """From the door sign's QR code: this shelter's status and its report buttons."""
    shelter = request.app.state.nearest.index.get(shelter_id)
    if shelter is None:
        return [Call("sendMessage", {"text": texts.t("no_shelter", lang, id=shelter_id)})]
    status = str(request.app.state.nearest.index.status_of(shelter_id))
    props = shelter.properties
    text = (f"{props.get('name') or props.get('address')}\n{props.get('address')}\n"
            f"{texts.status_text(status, lang)}\n#{shelter_id}\n\n{texts.t('welcome', lang)}")
    return [Call("sendLocation", {"latitude": shelter.lat, "longitude": shelter.lon}),
            Call("sendMessage", {"text": text,
                                 "reply_markup": bot.report_keyboard(shelter_id, lang)})]


@dataclass(frozen=True, slots=True)
class AreaName:
    id: str
    name: str
    name_en: str


def _area(request: Request, ref: str) -> AreaName | None:
    """An area by its id or its Ukrainian or English name."""
    settings: Settings = request.app.state.settings
    with db.reading(settings.database_url) as session:
        area = session.get(Area, ref)
        if area is None and ref:
            area = session.execute(select(Area).where(
                (Area.name == ref) | (Area.name_en == ref)).limit(1)).scalar_one_or_none()
        return AreaName(area.id, area.name, area.name_en) if area else None


def _subscribed_text(area: AreaName, lang: str) -> str:
    return texts.subscribed(area.name_en or area.name if lang == "en" else area.name, lang)


def _incident_id(settings: Settings, tracking_id: str) -> int | None:
    with db.reading(settings.database_url) as session:
        found: int | None = session.execute(
            select(Incident.id).where(Incident.tracking_id == tracking_id)).scalar_one_or_none()
        return found
