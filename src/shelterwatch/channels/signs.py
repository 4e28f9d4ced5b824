"""`GET /v1/shelters/{id}/sign.svg`: a printable door sign (A4) for one shelter.

It carries what a resident at a locked door needs without a web page: the shelter's number and
address, the SMS to send (`ЗАЧИНЕНО <number>` works from any push-button phone), and QR codes for
the resident page and the Telegram bot that already know which shelter this is. Only public
fields are printed. SVG, so it prints sharp at any size and needs no font files on the server.
"""

from __future__ import annotations

import re
from html import escape

import segno
from fastapi import APIRouter, Request, Response

from shelterwatch import db
from shelterwatch.config import Settings
from shelterwatch.errors import NotFound
from shelterwatch.shelters.models import Shelter

router = APIRouter(tags=["channels"])
_PATH = re.compile(r"<path[^>]*/>")
WIDTH, HEIGHT = 210, 297  # millimetres


def qr_group(data: str, *, x: float, y: float, size: float) -> str:
    """A QR code (error correction M, quiet zone of four modules) drawn as one SVG path."""
    code = segno.make(data, error="m")
    modules = code.symbol_size(scale=1, border=0)[0]
    path = _PATH.search(code.svg_inline(scale=1, border=0))
    assert path is not None
    scale = size / (modules + 8)
    return (f'<rect x="{x}" y="{y}" width="{size}" height="{size}" fill="#fff"/>'
            f'<g transform="translate({x + 4 * scale:.3f} {y + 4 * scale:.3f}) '
            f'scale({scale:.4f})">{path.group()}</g>')


def links(settings: Settings, shelter_id: int) -> dict[str, str]:
    """Where the QR codes lead: the resident page for this shelter, and the bot if named."""
    found = {"web": f"{settings.public_base_url.rstrip('/')}/?shelter={shelter_id}"}
    if settings.telegram_bot_username:
        found["telegram"] = f"https://t.me/{settings.telegram_bot_username}?start=s{shelter_id}"
    return found


def render(settings: Settings, *, shelter_id: int, name: str, address: str) -> str:
    """The sign as SVG text."""
    number = settings.sms_inbound_number or "…"
    codes = links(settings, shelter_id)
    qrs = [qr_group(codes["web"], x=20, y=178, size=75)]
    captions = [(57.5, "Мапа укриттів / Shelter map")]
    if "telegram" in codes:
        qrs.append(qr_group(codes["telegram"], x=115, y=178, size=75))
        captions.append((152.5, f"Telegram @{settings.telegram_bot_username}"))
    text = [
        (20, 30, 16, "bold", "УКРИТТЯ · SHELTER"),
        (20, 52, 26, "bold", f"№ {shelter_id}"),
        (20, 66, 7, "normal", name[:60]),
        (20, 76, 7, "normal", address[:60]),
        (20, 100, 8, "bold", "Двері зачинені під час тривоги? Надішліть SMS:"),
        (20, 116, 13, "bold", f"ЗАЧИНЕНО {shelter_id}   на {number}"),
        (20, 130, 6, "normal", "Також: ПОВНЕ, НЕПРИДАТНЕ, ВІДМОВИЛИ, НАЙБЛИЖЧЕ <вулиця, будинок>"),
        (20, 146, 7, "bold", "Door locked during an alert? Text:"),
        (20, 158, 10, "bold", f"LOCKED {shelter_id}   to {number}"),
        (20, 168, 5.5, "normal",
         "Сторінка працює й без мережі · The page works offline too"),
    ]
    lines = [f'<text x="{x}" y="{y}" font-size="{size}" font-weight="{weight}">'
             f"{escape(value)}</text>" for x, y, size, weight, value in text]
    lines += [f'<text x="{x}" y="262" font-size="5" text-anchor="middle">{escape(c)}</text>'
              for x, c in captions]
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}mm" height="{HEIGHT}mm" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="DejaVu Sans, Arial, sans-serif">'
            f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>'
            f'<rect x="8" y="8" width="{WIDTH - 16}" height="{HEIGHT - 16}" fill="none" '
            f'stroke="#0a5" stroke-width="3"/>' + "".join(lines) + "".join(qrs) + "</svg>")


@router.get("/v1/shelters/{shelter_id}/sign.svg", summary="A printable door sign with QR codes",
            response_class=Response,
            responses={200: {"content": {"image/svg+xml": {}}},
                       404: {"description": "No such shelter (problem+json)"}})
def door_sign(shelter_id: int, request: Request) -> Response:
    settings: Settings = request.app.state.settings
    with db.reading(settings.database_url) as session:
        shelter = session.get(Shelter, shelter_id)
        if shelter is None:
            raise NotFound(f"shelter {shelter_id} does not exist")
        name, address = shelter.name or "", shelter.address or ""
    svg = render(settings, shelter_id=shelter_id, name=name, address=address)
    return Response(svg, media_type="image/svg+xml",
                    headers={"Content-Disposition": f'inline; filename="shelter-{shelter_id}.svg"'})
