"""`POST /v1/channels/sms/inbound`: the SMS gateway forwards each message a resident sends.

The gateway proves itself with the shared secret in `X-Gateway-Secret`. The body is JSON
(`{"from", "text", "id"?}`) or a form (`From`, `Body`, `MessageSid` as Twilio-style gateways send).
The answer goes back through the outbox's `sms` channel (the gateway's send API), split into
GSM-7 or UCS-2 parts; the webhook's own response shows it too. A message the gateway delivers
twice (same `id`) is reported and answered once.
"""

from __future__ import annotations

import hmac
import uuid
from typing import Any

import orjson
from fastapi import APIRouter, Request
from pydantic import Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from shelterwatch import db
from shelterwatch.answers import Answer
from shelterwatch.channels import elsewhere
from shelterwatch.channels import service as follows
from shelterwatch.channels.sms import replies
from shelterwatch.channels.sms.addresses import gazetteer
from shelterwatch.clock import utcnow
from shelterwatch.config import Settings
from shelterwatch.errors import InvalidInput, ShelterwatchError, Unauthorized
from shelterwatch.incidents.models import Incident
from shelterwatch.notify import gsm
from shelterwatch.outbox import service as outbox
from shelterwatch.outbox.service import Outgoing, Priority
from shelterwatch.reports.schemas import ReportIn
from shelterwatch.reports.views import writer_of
from shelterwatch.rules import sms
from shelterwatch.rules import witness as witnesses
from shelterwatch.rules.sms import Command, Parsed


class SmsAnswer(Answer):
    reply: str
    encoding: str = Field(description="GSM-7 or UCS-2")
    parts: int = Field(description="SMS segments the reply takes")

router = APIRouter(tags=["channels"])
CHANNEL = "sms"
MAX_TEXT = 1600
KINDS = {"refused": ("locked", None, "refused entry (SMS)"),
         "unfit": ("unfit", "not stated (SMS)", None)}


async def _message(request: Request) -> tuple[str, str, str | None]:
    """(sender, text, gateway id) from a JSON or form body, or InvalidInput naming the field."""
    raw = await request.body()
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        form = await request.form()
        fields: dict[str, Any] = {k: str(v) for k, v in form.items()}
    else:
        try:
            fields = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise InvalidInput("the body is neither JSON nor a form") from None
        if not isinstance(fields, dict):
            raise InvalidInput("the body must be an object with `from` and `text`")
    sender = str(fields.get("from") or fields.get("From") or "").strip()
    text = fields.get("text", fields.get("Body"))
    gateway_id = fields.get("id") or fields.get("MessageSid")
    if not sender or len(sender) > 32 or not sender.lstrip("+").isdigit():
        raise InvalidInput("`from` must be the sender's phone number (digits, optional +)")
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        raise InvalidInput(f"`text` must be the message, at most {MAX_TEXT} characters")
    return sender, text, str(gateway_id)[:64] if gateway_id else None


@router.post("/v1/channels/sms/inbound", summary="Receive residents' SMS from the gateway",
             response_model=None,
             responses={200: {"description": "The answer, queued to the sender",
                              "model": SmsAnswer},
                        401: {"description": "Missing or wrong gateway secret (problem+json)"},
                        422: {"description": "No sender or text (problem+json)"}})
async def sms_inbound(request: Request) -> dict[str, Any]:
    settings: Settings = request.app.state.settings
    secret = settings.sms_inbound_secret
    given = request.headers.get("x-gateway-secret", "")
    if not secret or not hmac.compare_digest(secret.encode(), given.encode()):
        raise Unauthorized("the SMS gateway must send its shared secret (X-Gateway-Secret)")
    sender, text, gateway_id = await _message(request)
    lang = replies.language_of(text)
    parsed = sms.parse(text)
    reply, subject = await answer(request, parsed, sender=sender, lang=lang,
                                  gateway_id=gateway_id)
    # off the event loop: the commit waits for the disk
    await run_in_threadpool(queue_reply, settings, sender, lang, reply, subject, gateway_id)
    return {"reply": reply, "encoding": gsm.encoding(reply), "parts": len(gsm.split(reply))}


async def answer(request: Request, parsed: Parsed, *, sender: str, lang: str,
                 gateway_id: str | None) -> tuple[str, str | None]:
    """The reply text, and the subject the sender starts following (or "-all" to stop)."""
    index = request.app.state.nearest.index
    if parsed.command is Command.STOP:
        return replies.stopped(lang), "-all"
    if parsed.command is Command.NEAREST:
        place = gazetteer(index).find(parsed.address)
        if place is None:
            return replies.not_found(parsed.address, lang), None
        nearest: Any = request.app.state.nearest
        found = nearest.answer(place.lat, place.lon, limit=3)
        return replies.nearest(found, place, lang), None
    if parsed.command is Command.REPORT:
        shelter_id = parsed.shelter_id
        if shelter_id is None:
            place = gazetteer(index).find(parsed.address)
            if place is None or not place.shelter_ids:
                return replies.not_found(parsed.address, lang), None
            if len(place.shelter_ids) > 1:
                return replies.several(place, lang), None
            shelter_id = place.shelter_ids[0]
        return await report(request, parsed.kind, shelter_id, sender=sender, lang=lang,
                            gateway_id=gateway_id)
    return replies.help_text(lang), None


async def report(request: Request, kind: str, shelter_id: int, *, sender: str, lang: str,
                 gateway_id: str | None) -> tuple[str, str | None]:
    """A resident's report through the same writer as the web page's; the same receipt."""
    settings: Settings = request.app.state.settings
    intake_kind, reason, note = KINDS.get(kind, (kind, None, None))
    report = ReportIn(shelter_id=shelter_id, kind=intake_kind, reason=reason, note=note,  # type: ignore[arg-type]
                      device_id=follows.device_id(settings.secret_key, CHANNEL, sender))
    try:
        receipt = await writer_of(request).submit(
            report, key=f"sms:{gateway_id}" if gateway_id else None, address=None,
            witness=witnesses.channel_witness(settings.secret_key, channel=CHANNEL,
                                              address=sender))
    except ShelterwatchError as exc:
        return replies.failed(exc.detail, lang), None
    body: dict[str, Any] = receipt.body
    subject = None
    if body.get("incident"):
        with db.reading(settings.database_url) as session:
            incident_id = session.execute(select(Incident.id).where(
                Incident.tracking_id == body["incident"]["tracking_id"])).scalar_one_or_none()
        subject = f"incident:{incident_id}" if incident_id is not None else None
    nearest = request.app.state.nearest
    alternative = elsewhere.instead(nearest.index, nearest.model, shelter_id)
    return replies.receipt(body, lang, alternative), subject


def queue_reply(settings: Settings, sender: str, lang: str, reply: str, subject: str | None,
                gateway_id: str | None) -> None:
    """In one transaction: what the phone now follows (or stops), and the reply in the outbox."""
    now = utcnow()
    with db.transaction(settings.database_url) as session:
        if subject == "-all":
            follows.unfollow(session, channel=CHANNEL, address=sender,
                             secret=settings.secret_key, now=now, prefix="")
        elif subject:
            follows.follow(session, channel=CHANNEL, address=sender, subject=subject,
                           language=lang, secret=settings.secret_key, now=now)
        outbox.enqueue(session, Outgoing(
            subject=f"sms:{gateway_id or uuid.uuid4().hex}", step="reply",
            recipient=follows.recipient(settings.secret_key, CHANNEL, sender), channel=CHANNEL,
            address=sender, title="sms", body=reply, priority=Priority.REPLY),
            now=now, actor="sms")
