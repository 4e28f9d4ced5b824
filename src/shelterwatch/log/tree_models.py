"""Tables of the log's Merkle tree and its signed heads, derived from the facts.

They are not facts: every row here is a function of the fact hashes (and the signing key), so
`shelterwatch log verify` recomputes them and a lost table is rebuilt, not restored.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Integer, LargeBinary, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shelterwatch.db import Base

BIGINT = BigInteger().with_variant(Integer, "sqlite")


class MerkleNode(Base):
    """A perfect subtree: 2**level leaves from index * 2**level; level 0 are the leaves."""

    __tablename__ = "merkle_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BIGINT, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class MerkleState(Base):
    """One row: how many leaves the stored tree holds; its row lock serialises growing it."""

    __tablename__ = "merkle_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BIGINT)


class TreeHead(Base):
    """A signed tree head (RFC 6962 §3.5), one per published size."""

    __tablename__ = "tree_heads"

    tree_size: Mapped[int] = mapped_column(BIGINT, primary_key=True, autoincrement=False)
    timestamp_ms: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))
    key_id: Mapped[str] = mapped_column(String(64), index=True)


class LogKey(Base):
    """A public key the log signs heads with, so every API node can serve it."""

    __tablename__ = "log_keys"

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    public_key: Mapped[str] = mapped_column(String(64))  # raw Ed25519 key, hex
    public_key_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
