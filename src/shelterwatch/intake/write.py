"""Writing what the intake decided (an `Outcome`) as rows: one statement per table
(the driver's executemany on SQLite), and on PostgreSQL every row in one pipelined round trip
(`bulk.write_all`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from shelterwatch.bulk import write_all
from shelterwatch.incidents.models import Incident
from shelterwatch.intake.core import Case, Outcome, StatusRow
from shelterwatch.intake.sql import (
    FACTS,
    INSERT_CASES,
    INSERT_OBSERVATIONS,
    INSERT_STATUSES,
    UPDATE_CASE,
    UPDATE_STATUS,
)
from shelterwatch.log import service as log

Writes = list[tuple[Any, list[dict[str, Any]]]]
_CASE_MOVES = ("me_too", "last_report_at", "resolved_at", "resolution", "resolved_by",
               "time_to_open_s")


def write(session: Session, outcome: Outcome, *, head: tuple[int, str], now: datetime,
          also: Writes, committing: Callable[[], None] | None = None) -> list[dict[str, Any]]:
    """The outcome's rows, one statement per table, then the caller's; with `committing`, the
    transaction's COMMIT where it saves a round trip (`bulk.write_all`). Returns the facts'
    rows as stored (`log.chained`)."""
    conn = session.connection()
    if not outcome.facts:
        write_all(conn, also, committing=committing)
        return []
    new, old = [], []
    for k, v in outcome.statuses.items():
        if k in outcome.new_statuses:
            new.append({c: getattr(v, c) for c in StatusRow.__slots__})
        else:
            old.append({f"b_{c}": getattr(v, c) for c in StatusRow.__slots__})
    opened = [{c: getattr(case, c) for c in Case.__slots__} for case in outcome.opened]
    changed = [{f"b_{c}": getattr(case, c) for c in ("id", *_CASE_MOVES)}
               for case in outcome.changed]
    drafts = [log.NewFact(f.kind, f.actor, f.payload, f.private) for f in outcome.facts]
    last_seq = outcome.after.next_seq - 1
    facts = log.chained(drafts, now=now, head=head)
    if facts[-1]["seq"] != last_seq:
        raise RuntimeError("the log moved under its lock; the batch is not written")
    if conn.dialect.name == "postgresql":
        last = facts[-1]
        write_all(conn, [
            (FACTS, facts),
            (log.MOVE_HEAD_AND_NOTIFY, [{"new_seq": last["seq"], "new_hash": last["hash"],
                                         "channel": log.NOTIFY_CHANNEL,
                                         "last": str(last["seq"])}]),
            (INSERT_CASES, opened), (UPDATE_CASE, changed),
            (INSERT_OBSERVATIONS, outcome.observations), (INSERT_STATUSES, new),
            (UPDATE_STATUS, old), *also], committing=committing)
    else:
        log.append_chained(session, facts)
        # An UPDATE by primary key per row is still one executemany.
        write_all(conn, [(INSERT_CASES, opened), (UPDATE_CASE, changed),
                         (INSERT_OBSERVATIONS, outcome.observations), (INSERT_STATUSES, new),
                         (UPDATE_STATUS, old), *also])
    _forget_stale(session, [c.id for c in outcome.changed])
    return facts


def _forget_stale(session: Session, case_ids: list[int]) -> None:
    """A case the caller's session had loaded is now stale: it reloads on its next read."""
    for case_id in case_ids:
        held = session.identity_map.get(identity_key(Incident, case_id))
        if held is not None:
            session.expire(held)
