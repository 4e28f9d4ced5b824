"""Who wants to hear about what, on which channel. Addresses (chat ids, phone numbers, push
endpoints) are private identifiers: kept here and in the outbox, never in a public answer, the
public log or the pack. The digest lets a row be found without comparing the address itself."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shelterwatch.db import Base


class Follow(Base):
    """A chat or phone following a subject: `incident:<id>` (a case it reported) or
    `area:<id>` (alerts starting and ending there)."""

    __tablename__ = "channel_follows"
    __table_args__ = (UniqueConstraint("channel", "address_digest", "subject",
                                       name="uq_channel_follows_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(Text)  # private
    address_digest: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(64), index=True)
    language: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PushSubscription(Base):
    """A browser's Web Push subscription (RFC 8030/8291): no account, and it expires."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    endpoint_digest: Mapped[str] = mapped_column(String(64), unique=True)
    endpoint: Mapped[str] = mapped_column(Text)  # private: it identifies the browser
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    area_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PushShown(Base):
    """A shelter this browser was shown (sent towards); kept an hour, so a locked report on it
    can say "go to X instead"."""

    __tablename__ = "push_shown"

    subscription_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shelter_id: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)
    shown_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
