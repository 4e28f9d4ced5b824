"""Owners and keyholders; every contact column here is private (DESIGN §3.5)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shelterwatch.db import Base


class Contact:
    """Columns shared by owners and keyholders: one address per channel, any may be empty."""

    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    sms: Mapped[str | None] = mapped_column(String(32))
    telegram: Mapped[str | None] = mapped_column(String(64))
    webhook: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Owner(Contact, Base):
    """The balance-keeper organisation answerable for a shelter being open."""

    __tablename__ = "owners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)


class Keyholder(Contact, Base):
    """A person holding the keys of one or more shelters."""

    __tablename__ = "keyholders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id"))
    token_id: Mapped[int | None] = mapped_column(Integer)  # their bearer token, if issued
    active: Mapped[bool] = mapped_column(default=True)


class KeyholderShelter(Base):
    __tablename__ = "keyholder_shelters"

    keyholder_id: Mapped[int] = mapped_column(ForeignKey("keyholders.id"), primary_key=True)
    shelter_id: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)


class OwnerShelter(Base):
    __tablename__ = "owner_shelters"

    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id"), primary_key=True)
    shelter_id: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)
