"""Observations, the status projection and stored receipts.

`observations` and `shelter_statuses` are derived from the fact log (`shelterwatch rebuild`
recreates them); `idempotency_keys` holds the first receipt each client key received.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shelterwatch.db import Base

BIGINT = BigInteger().with_variant(Integer, "sqlite")


class Observation(Base):
    """One piece of evidence about one shelter; its id is the tracking id on the receipt."""

    __tablename__ = "observations"
    __table_args__ = (Index("ix_observations_shelter_id_at", "shelter_id", "at"),
                      Index("ix_observations_at", "at"))

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    shelter_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(16))
    # A digest of the device id or the token label: enough to count a device once, not to find it.
    reporter: Mapped[str] = mapped_column(String(64), default="")
    # Where a resident's report came from (a keyed digest of its network, or its reporter when
    # no network is known): what the surge detector groups by and an operator may quarantine.
    source: Mapped[str] = mapped_column(String(64), default="")
    distance_m: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    alert_id: Mapped[int | None] = mapped_column(Integer)
    incident_id: Mapped[int | None] = mapped_column(Integer, index=True)
    routed_to: Mapped[str | None] = mapped_column(String(16))
    seq: Mapped[int] = mapped_column(BIGINT)


class ShelterStatus(Base):
    """Each shelter's current derived status, as of its last evaluation."""

    __tablename__ = "shelter_statuses"

    shelter_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(32))
    confidence: Mapped[float] = mapped_column(Float)
    reasons: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of reason codes
    observation_ids: Mapped[str] = mapped_column(Text, default="[]")  # JSON list
    evaluated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    seq: Mapped[int] = mapped_column(BIGINT)


class IdempotencyKey(Base):
    """The first answer to one client's `Idempotency-Key`, returned again on every retry."""

    __tablename__ = "idempotency_keys"

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PlaceReport(Base):
    """A report of no shelter nearby: about a place, not a shelter; feeds the coverage analysis.

    The position is kept rounded to about 100 m; the precise one lives only in the fact's private
    part.
    """

    __tablename__ = "place_reports"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    seq: Mapped[int] = mapped_column(BIGINT)


class SourceQuarantine(Base):
    """A source whose evidence an operator set aside, until released (derived from the log)."""

    __tablename__ = "source_quarantines"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    quarantined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    quarantined_by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(200), default="")
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    released_by: Mapped[str | None] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(BIGINT)
