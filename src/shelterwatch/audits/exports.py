"""What audits publish: the Lviv oblast open-data table and the PDF inspection act of an audit.

The Lviv schema names each shelter (`shelterId`, `shelterType`, `atuCode` — the KATOTTG code of its
area — and its address levels) and, per checked requirement, the norm (`normsNumber`), its
paragraph (`paragraphNumber`), the result (`status`) and the photo (`image`). One row per shelter
and item of its latest full audit; a shelter never audited has one row with status
`not_audited`. Public fields only: no owner, no inspector, no position.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from shelterwatch.areas.models import Area
from shelterwatch.audits import checklist as checklists
from shelterwatch.audits import deficiencies, readiness_store
from shelterwatch.audits import service as audits
from shelterwatch.audits.models import Audit, AuditPhoto, ShelterReadiness
from shelterwatch.rules.readiness import CATEGORY_TEXT, Checklist
from shelterwatch.shelters.models import Shelter
from shelterwatch.vocabulary import Readiness

LVIV_FIELDS = ("shelterId", "shelterType", "atuCode", "addressRegion", "addressCommunity",
               "addressSettlement", "addressStreet", "name", "capacity", "readiness",
               "auditedAt", "requirement", "normsNumber", "paragraphNumber", "status", "image")


def _norm(clause: str) -> tuple[str, str]:
    """("MVS Order 579 (ed. Order 546, 2025)", "round-the-clock unimpeded access") from a clause."""
    norm, _, paragraph = clause.partition(":")
    return norm.strip(), paragraph.strip()


def _area_levels(session: Session) -> dict[str, list[Area]]:
    """Each area with its ancestors, the oblast first."""
    areas = {a.id: a for a in session.execute(select(Area)).scalars()}
    chains: dict[str, list[Area]] = {}
    for area_id in areas:
        chain: list[Area] = []
        current = areas.get(area_id)
        while current is not None and len(chain) < 8:
            chain.append(current)
            current = areas.get(current.parent_id) if current.parent_id else None
        chains[area_id] = list(reversed(chain))
    return chains


def lviv_rows(session: Session, *, base_url: str) -> Iterator[dict[str, Any]]:
    chains = _area_levels(session)
    ready = {r.shelter_id: r for r in session.execute(select(ShelterReadiness)).scalars()}
    last_full = dict(session.execute(
        select(Audit.shelter_id, Audit.id).where(Audit.tier == "full")
        .order_by(Audit.shelter_id, Audit.id)).all())  # the last id per shelter wins
    for shelter in session.execute(select(Shelter).order_by(Shelter.id)).scalars():
        chain = chains.get(shelter.area_id, [])
        row = ready.get(shelter.id)
        base = {"shelterId": shelter.id, "shelterType": shelter.kind,
                "atuCode": next((a.katottg for a in reversed(chain) if a.katottg), ""),
                "addressRegion": chain[0].name if chain else "",
                "addressCommunity": chain[1].name if len(chain) > 1 else "",
                "addressSettlement": chain[-1].name if chain else "",
                "addressStreet": shelter.address, "name": shelter.name,
                "capacity": shelter.capacity if shelter.capacity is not None else "",
                "readiness": (row.ghost_reason or row.category or "") if row else "",
                "auditedAt": (readiness_store.iso(row.full_audited_at) or "") if row else ""}
        audit_id = last_full.get(shelter.id)
        if audit_id is None:
            yield {**base, "requirement": "", "normsNumber": "", "paragraphNumber": "",
                   "status": "not_audited", "image": ""}
            continue
        yield from _item_rows(session, session.get(Audit, audit_id), base, base_url)


def _item_rows(session: Session, audit: Audit | None, base: dict[str, Any],
               base_url: str) -> Iterator[dict[str, Any]]:
    if audit is None:
        return
    checklist = checklists.load(audit.checklist_version)
    images = {p.item_id: p.sha256 for p in audits.photos_of(session, audit.id)}
    for item_id, value in orjson.loads(audit.answers).items():
        item = checklist.item(item_id)
        if item is None:
            continue
        norm, paragraph = _norm(item.clause)
        yield {**base, "requirement": item.uk, "normsNumber": norm, "paragraphNumber": paragraph,
               "status": value if isinstance(value, str) else f"{value:g} {item.unit or ''}",
               "image": f"{base_url}/v1/photos/{images[item_id]}" if item_id in images else ""}


def write_lviv_csv(session: Session, out: Path, *, base_url: str) -> int:
    count = 0
    with open(out, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=LVIV_FIELDS)
        writer.writeheader()
        for row in lviv_rows(session, base_url=base_url.rstrip("/")):
            writer.writerow(row)
            count += 1
    return count


def font_dir() -> str:
    """DejaVu Sans, shipped inside matplotlib's package data: Cyrillic without a system font."""
    import matplotlib

    return os.path.join(matplotlib.get_data_path(), "fonts", "ttf")


def act_pdf(session: Session, audit_id: int, *, timezone: str) -> bytes:
    """The inspection act of one audit: shelter, date, versions, every answer, category and
    reasons, deficiencies with deadlines, photo hashes (which photo was taken)."""
    from fpdf import FPDF

    audit = audits.get_or_raise(session, audit_id)
    shelter = session.get(Shelter, audit.shelter_id)
    checklist: Checklist = checklists.load(audit.checklist_version)
    zone = ZoneInfo(timezone)
    pdf = FPDF(format="A4")
    pdf.add_font("DejaVu", "", os.path.join(font_dir(), "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", os.path.join(font_dir(), "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(True, 15)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def line(text: str, size: int = 10, bold: bool = False) -> None:
        pdf.set_font("DejaVu", "B" if bold else "", size)
        pdf.multi_cell(width, size * 0.55, text, new_x="LMARGIN", new_y="NEXT")

    line(f"АКТ ОБСТЕЖЕННЯ УКРИТТЯ № {audit.id} / INSPECTION ACT", 14, True)
    when = _local(audit.recorded_at, zone)
    if shelter is not None:
        line(f"{shelter.name} — {shelter.address} (#{shelter.id}, {shelter.kind}, "
             f"місткість {shelter.capacity if shelter.capacity is not None else '—'})")
    line(f"Дата: {when}; вид: {'повний огляд' if audit.tier == 'full' else 'швидка перевірка'}; "
         f"чек-лист {audit.checklist_version}; правило {audit.rule_version}")
    gps = (f"GPS ±{audit.accuracy_m:.0f} м" if audit.accuracy_m is not None else "GPS —")
    line(gps + (" (неточно, > 30 м)" if audit.gps_flagged else ""))
    category = (CATEGORY_TEXT[Readiness(audit.category)][0] if audit.category else "—")
    if audit.ghost_reason:
        category = f"укриття-привид ({audit.ghost_reason})"
    line(f"Висновок: {category}", 12, True)
    for reason in orjson.loads(audit.reasons):
        line(f"  • {reason['uk']} ({reason['severity']})")
    pdf.ln(2)
    line("Пункти перевірки", 11, True)
    for item_id, value in orjson.loads(audit.answers).items():
        item = checklist.item(item_id)
        label = item.uk if item else item_id
        shown = {"pass": "так", "fail": "НІ", "na": "не стосується"}.get(str(value), str(value))
        line(f"{label}: {shown}" + (f" — {item.clause}" if item else ""), 8)
    found = deficiencies.of_audit(session, audit.id)
    if found:
        pdf.ln(2)
        line("Недоліки та строки усунення", 11, True)
        for d in found:
            line(f"  {d['item_id']} ({d['severity']}): до {d['deadline'][:10]}; {d['state']}", 9)
    photos = session.execute(select(AuditPhoto).where(AuditPhoto.audit_id == audit.id)
                             .order_by(AuditPhoto.id)).scalars().all()
    if photos:
        pdf.ln(2)
        line("Фото (SHA-256)", 11, True)
        for p in photos:
            line(f"  {p.item_id}: {p.sha256}", 7)
    return bytes(pdf.output())


def _local(at: datetime, zone: ZoneInfo) -> str:
    if at.tzinfo is None:
        from datetime import UTC

        at = at.replace(tzinfo=UTC)
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
