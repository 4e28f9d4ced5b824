"""Rollup tables, derived from the facts by the worker (`shelterwatch stats rebuild` recreates
them exactly): one row per (shelter, alert) pair, one per locked-door case, the shelters' area
and owner as the facts told them, and an index of which facts are about which subject."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shelterwatch.db import Base

BIGINT = BigInteger().with_variant(Integer, "sqlite")
TS = DateTime(timezone=True)


class StatsShelter(Base):
    __tablename__ = "stats_shelters"

    shelter_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    area_id: Mapped[str] = mapped_column(String(32), index=True)
    owner_id: Mapped[int | None] = mapped_column(Integer, index=True)


class StatsPair(Base):
    """A shelter under one alert: when it was first verified open, and what was reported."""

    __tablename__ = "stats_pairs"
    __table_args__ = (
        Index("ix_stats_pairs_started_at", "started_at"),
        Index("ix_stats_pairs_shelter_id_started_at", "shelter_id", "started_at"),
        Index("ix_stats_pairs_owner_id_started_at", "owner_id", "started_at"),
        Index("ix_stats_pairs_ended_at", "ended_at"),
    )

    alert_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    shelter_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    area_id: Mapped[str] = mapped_column(String(32))
    owner_id: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(TS)
    ended_at: Mapped[datetime | None] = mapped_column(TS)
    open_after_s: Mapped[int | None] = mapped_column(Integer)  # first verified open
    open_by: Mapped[str | None] = mapped_column(String(16))  # the role that verified it
    check_in_after_s: Mapped[int | None] = mapped_column(Integer)  # first keyholder `open`
    full_reports: Mapped[int] = mapped_column(Integer, default=0)
    unfit_reports: Mapped[int] = mapped_column(Integer, default=0)
    missing_reports: Mapped[int] = mapped_column(Integer, default=0)


class StatsDaily(Base):
    """The pairs' counts per UTC day of the alert's start, area and owner (0 = none): what
    every dashboard sums, a few hundred rows a day however many shelters there are."""

    __tablename__ = "stats_daily"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD
    area_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    pairs: Mapped[int] = mapped_column(Integer, default=0)
    open_5: Mapped[int] = mapped_column(Integer, default=0)
    open_during: Mapped[int] = mapped_column(Integer, default=0)
    check_ins: Mapped[int] = mapped_column(Integer, default=0)
    alert_s: Mapped[int] = mapped_column(BIGINT, default=0)  # ended alerts' shelter-seconds
    # Σ seconds from the alert's start to the first verified open (over the open_during pairs)
    # and to the keyholder's `open` (over the check_ins pairs): the means owners are ranked on.
    open_s: Mapped[int] = mapped_column(BIGINT, default=0)
    check_in_s: Mapped[int] = mapped_column(BIGINT, default=0)
    full_reports: Mapped[int] = mapped_column(Integer, default=0)
    unfit_reports: Mapped[int] = mapped_column(Integer, default=0)
    missing_reports: Mapped[int] = mapped_column(Integer, default=0)


class StatsOpenTimes(Base):
    """How many pairs were first verified open in each 10-second bucket after the alert's start,
    per day and area ("*" = everywhere): the time-to-open percentiles and distribution."""

    __tablename__ = "stats_open_times"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    area_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    bucket_s: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(Integer, default=0)


class StatsCase(Base):
    """One locked-door case and its lifecycle."""

    __tablename__ = "stats_cases"
    __table_args__ = (Index("ix_stats_cases_created_at", "created_at"),)

    incident_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    tracking_id: Mapped[str] = mapped_column(String(16))
    shelter_id: Mapped[int] = mapped_column(Integer, index=True)
    area_id: Mapped[str] = mapped_column(String(32))
    owner_id: Mapped[int | None] = mapped_column(Integer)
    alert_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(TS)
    first_notified_at: Mapped[datetime | None] = mapped_column(TS)
    patrol_dispatched_at: Mapped[datetime | None] = mapped_column(TS)
    door_open_at: Mapped[datetime | None] = mapped_column(TS)
    closed_at: Mapped[datetime | None] = mapped_column(TS)
    resolution: Mapped[str | None] = mapped_column(String(32))
    evidence_kind: Mapped[str | None] = mapped_column(String(40))  # "keyholder:open", …


class FactSubject(Base):
    """Which facts are about which shelter or incident, for dossiers without a log scan."""

    __tablename__ = "stats_fact_subjects"

    subject: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(BIGINT, primary_key=True, autoincrement=False)


class StatsCursor(Base):
    """The last fact the rollups applied; its row lock serialises the appliers."""

    __tablename__ = "stats_cursor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BIGINT)
