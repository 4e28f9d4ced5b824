"""Taking in observations: `submit` one (a check, a door state, a check-in link, Open311),
`submit_many` a batch (the reports' group-commit writer). Both decide through `intake.core`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from shelterwatch.errors import InvalidInput, ShelterwatchError
from shelterwatch.intake import core, load, write
from shelterwatch.intake.memo import Memo
from shelterwatch.intake.sql import HEAD
from shelterwatch.log import service as log
from shelterwatch.reads import Read, Reads
from shelterwatch.vocabulary import ObservationKind, Role


def submit(session: Session, *, shelter_id: int, kind: ObservationKind, role: Role,
           reporter: str, actor: str, now: datetime, tracking_prefix: str,
           lat: float | None = None, lon: float | None = None, reason: str = "",
           private: Mapping[str, Any] | None = None,
           made_at: datetime | None = None, source: str = "") -> core.Intake:
    """Take in one observation and act on its door's case; the caller commits.

    The same path as a batch of one: an unknown shelter raises InvalidInput.
    """
    item = core.Item(shelter_id=shelter_id, kind=kind, role=role, reporter=reporter,
                     actor=actor, lat=lat, lon=lon, reason=reason, private=private,
                     made_at=made_at, source=source)
    result = submit_many(session, [item], now=now, tracking_prefix=tracking_prefix)[0]
    if isinstance(result, ShelterwatchError):
        raise result
    return result


@dataclass(frozen=True, slots=True)
class Head:
    """The log's head asked for ahead of a batch (`ask_head`), and the tracking ids it counts."""

    candidates: list[str]
    read: Read


def ask_head(reads: Reads, n: int, tracking_prefix: str) -> Head:
    """Queue on `reads` the log's head under its lock, with how many of `n` candidate tracking
    ids are taken, for a batch of at most `n` items that `submit_many` is then given (the report
    writer's opening round trip)."""
    candidates = load.candidates(n, tracking_prefix)
    return Head(candidates, reads.ask(HEAD, {"ids": candidates}))


def submit_many(session: Session, items: Sequence[core.Item], *, now: datetime,
                tracking_prefix: str, memo: Memo | None = None,
                also: Callable[[list[core.Intake | ShelterwatchError]], write.Writes] | None = None,
                ahead: Head | None = None, committing: Callable[[], None] | None = None,
                written: list[dict[str, Any]] | None = None,
                ) -> list[core.Intake | ShelterwatchError]:
    """Record each observation in order and act on its door's case; the caller commits.

    Returns, per item, what it did or the error that refused it alone. Any other failure raises
    and leaves the transaction for the caller to roll back. With a `memo`, the caller calls its
    `settle` after the commit and its `forget` when the transaction fails. `also` turns the
    results into more rows (statement, rows) the caller wants written after the batch's own, in
    the same round trip where the database allows (the writer's stored receipts). `ahead` is
    the head already read in this transaction (`ask_head`), before anything was written. With
    `committing`, the caller commits right after: the writes may carry the COMMIT
    (`bulk.write_all`), `committing` being called as it is sent. `written` gets the facts' rows
    as stored (`log.chained`), for a caller that applies them once committed.
    """
    if ahead is not None:
        if log.has_pending(session) or len(ahead.candidates) < len(items):
            raise ValueError("the log's head was read ahead of this batch's facts")
        candidates, head = ahead.candidates, ahead.read.first()
    else:
        log.append_pending(session)  # facts this transaction asked for before come first
        session.flush()
        candidates = load.candidates(len(items), tracking_prefix)
        head = session.connection().execute(HEAD, {"ids": candidates}).first()
    conn = session.connection()
    if head is None:  # a fresh log: let the log make its head row
        log.lock(session)
        head = conn.execute(HEAD, {"ids": candidates}).one()
    ids = sorted({i.shelter_id for i in items})
    if memo is None:
        memo = Memo()
    elif not memo.holds(head.seq, now):
        memo.forget()
    known = _known(conn, memo, ids, head, now)
    tracking_ids = iter(candidates if head.taken == 0
                        else load.tracking_ids(conn, len(items), tracking_prefix))
    outcome = core.decide(known, items, now=now, ids=tracking_ids)
    results: list[core.Intake | ShelterwatchError] = [
        InvalidInput(f"shelter_id: shelter {r.shelter_id} does not exist")
        if isinstance(r, core.NoSuchShelter) else r for r in outcome.results]
    facts = write.write(session, outcome, head=(head.seq, head.hash), now=now,
                        also=also(results) if also is not None else [], committing=committing)
    if written is not None:
        written.extend(facts)
    memo.staged = (outcome.after.next_seq - 1, now, outcome.after)
    return results


def _known(conn: Connection, memo: Memo, ids: list[int], head: Any, now: datetime) -> core.Known:
    """What the batch's shelters need decided: from the memo where it holds, else read, one
    query per table."""
    cached = [i for i in ids if i in memo.places]
    unknown = [i for i in ids if i not in memo.places]
    shelters = {i: memo.places[i] for i in cached}
    evidence = {i: list(memo.evidence.get(i, ())) for i in cached}
    statuses = {i: memo.statuses[i] for i in cached if i in memo.statuses}
    cases = {i: memo.cases[i] for i in cached if i in memo.cases}
    aside = memo.quarantined if memo.quarantined is not None else load.quarantined(conn)
    if unknown:
        shelters.update(load.shelters(conn, unknown))
        evidence.update(load.evidence(conn, unknown, now, aside))
        statuses.update(load.statuses(conn, unknown))
        cases.update(load.open_cases(conn, unknown))
    spans = memo.alerts if memo.alerts is not None else load.not_over(conn, now)
    alerts = load.on_at(spans, now)
    ancestors: dict[str, list[str]] = {}
    if alerts:
        areas = {s.area_id for s in shelters.values()}
        ancestors = {a: memo.ancestors[a] for a in areas if a in memo.ancestors}
        ancestors.update(load.ancestors(conn, areas - ancestors.keys()))
    return core.Known(
        next_seq=head.seq + 1, shelters=shelters, alerts=alerts, ancestors=ancestors,
        open_cases=cases,
        evidence=evidence, statuses=statuses, next_incident_id=head.last_incident + 1,
        quarantined=aside, spans=spans)
