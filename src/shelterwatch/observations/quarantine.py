"""Quarantined sources as stored: which are set aside, and the rows their facts stand for.

An operator quarantines a source (sources/) when its reports look like a flood; its residents'
evidence is then weighed as nothing by the status rule until it is released. The rows are derived
from `source.quarantined` and `source.released` facts, live and on rebuild.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shelterwatch.observations.models import SourceQuarantine


def quarantined(session: Session) -> frozenset[str]:
    """The sources an operator quarantined and has not released (a handful, if any)."""
    return frozenset(session.execute(
        select(SourceQuarantine.source).where(SourceQuarantine.released_at.is_(None))).scalars())


def apply_quarantined(session: Session, *, source: str, reason: str, actor: str, at: datetime,
                      seq: int) -> None:
    """The row a `source.quarantined` fact stands for."""
    row = session.get(SourceQuarantine, source)
    if row is None:
        row = SourceQuarantine(source=source)
        session.add(row)
    row.quarantined_at, row.quarantined_by, row.reason, row.seq = at, actor, reason[:200], seq
    row.released_at = row.released_by = None
    session.flush()


def apply_released(session: Session, *, source: str, actor: str, at: datetime) -> None:
    """The row a `source.released` fact stands for."""
    row = session.get(SourceQuarantine, source)
    if row is not None:
        row.released_at, row.released_by = at, actor
        session.flush()
