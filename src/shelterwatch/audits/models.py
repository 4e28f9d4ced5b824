"""Audit tables. Audits, photos, deficiencies and campaigns are primary records written with their
facts; `shelter_readiness` is derived (a fold of the audit facts) and `shelterwatch rebuild`
reproduces it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from shelterwatch.db import Base


class Audit(Base):
    """One filled-in checklist (a full audit or a door quick-check) as it was judged."""

    __tablename__ = "audits"
    __table_args__ = (UniqueConstraint("source", "external_id", name="uq_audits_external"),
                      Index("ix_audits_campaign_recorded", "campaign_id", "recorded_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    shelter_id: Mapped[int] = mapped_column(Integer, index=True)
    tier: Mapped[str] = mapped_column(String(8))
    actor: Mapped[str] = mapped_column(String(200))
    checklist_version: Mapped[str] = mapped_column(String(32))
    rule_version: Mapped[str] = mapped_column(String(32))
    answers: Mapped[str] = mapped_column(Text)  # JSON {item_id: "pass"|"fail"|"na"|number}
    category: Mapped[str | None] = mapped_column(String(16))
    reasons: Mapped[str] = mapped_column(Text, default="[]")
    ghost_reason: Mapped[str | None] = mapped_column(String(32))
    closed_on_arrival: Mapped[bool] = mapped_column(Boolean, default=False)
    lat: Mapped[float | None] = mapped_column(Float)  # where the inspector stood (private)
    lon: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    gps_flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    campaign_id: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16))  # api, kobo, odk
    external_id: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditPhoto(Base):
    """A photo an audit or a fix refers to, by the SHA-256 of its bytes (the store holds them)."""

    __tablename__ = "audit_photos"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    audit_id: Mapped[int | None] = mapped_column(Integer, index=True)
    deficiency_id: Mapped[int | None] = mapped_column(Integer)
    item_id: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(8))  # finding, fix
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Deficiency(Base):
    """A failed item: its owner must fix it by the deadline; a photo of the fix closes it."""

    __tablename__ = "deficiencies"
    __table_args__ = (Index("ix_deficiencies_shelter_state", "shelter_id", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    shelter_id: Mapped[int] = mapped_column(Integer)
    audit_id: Mapped[int] = mapped_column(Integer)
    item_id: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(8))  # open, closed
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_how: Mapped[str | None] = mapped_column(String(16))  # fix_photo, reaudit
    fix_photo: Mapped[str | None] = mapped_column(String(64))


class ShelterReadiness(Base):
    """Each audited shelter's readiness now, and whether it is a ghost (derived)."""

    __tablename__ = "shelter_readiness"

    shelter_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    category: Mapped[str | None] = mapped_column(String(16), index=True)
    reasons: Mapped[str] = mapped_column(Text, default="[]")
    answers: Mapped[str] = mapped_column(Text, default="{}")
    full_seen: Mapped[bool] = mapped_column(Boolean, default=False)
    checklist_version: Mapped[str] = mapped_column(String(32), default="")
    rule_version: Mapped[str] = mapped_column(String(32), default="")
    audited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    full_audited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_audit_id: Mapped[int | None] = mapped_column(Integer)
    ghost_reason: Mapped[str | None] = mapped_column(String(32), index=True)
    ghost_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ghost_evidence: Mapped[str] = mapped_column(Text, default="{}")


class Campaign(Base):
    """An inspection campaign: an area, the kinds of shelter it covers, a deadline."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    area_id: Mapped[str] = mapped_column(String(64))
    kinds: Mapped[str] = mapped_column(Text)  # JSON list of ShelterKind values
    deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reaudit_days: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CampaignShelter(Base):
    """Which inspection group a campaign's shelter is assigned to."""

    __tablename__ = "campaign_shelters"
    __table_args__ = (Index("ix_campaign_shelters_group", "campaign_id", "group_name"),)

    campaign_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shelter_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    area_id: Mapped[str] = mapped_column(String(64))
    group_name: Mapped[str] = mapped_column(String(100))
