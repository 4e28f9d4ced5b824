"""Shared rate limits and spread limits, in the caller's transaction.

Per-process counters let N processes allow N times as much. Kept in the database, a limit holds
however many processes serve: a writer reads and moves a key's row inside its own transaction,
under the lock every writer of reports already takes (the log's), so two processes cannot both
spend the last unit. A batch of writes is judged at once (`judge`): one read and one upsert per
table for the whole batch, whatever the crowd.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Float,
    Table,
    and_,
    bindparam,
    delete,
    func,
    literal_column,
    select,
    text,
    union_all,
)
from sqlalchemy import (
    cast as sql_cast,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from shelterwatch.budgets import rule as rules
from shelterwatch.budgets.models import RateCell, SourceMark
from shelterwatch.listed import among, rows_among
from shelterwatch.reads import Read, Reads

PRUNE_EVERY_S = 60.0
_next_prune: dict[str, float] = {}


def hit(session: Session, *, scope: str, key: str, limit: int, window_s: float,
        now: datetime) -> float | None:
    """Count one hit of `limit` per `window_s` for `key`; None if allowed, else seconds to wait."""
    refused = judge(session, [[rules.Rate(scope, key, limit, window_s)]], now=now)[0]
    return refused.wait_s if refused is not None else None


Writes = list[tuple[Any, list[dict[str, Any]]]]


def judge(session: Session, asks: Sequence[Sequence[rules.Check]], *, now: datetime,
          defer: Writes | None = None) -> list[rules.Refusal | None]:
    """Judge a batch's asks in order (`rule.judge`), with one read and one write per table.

    One query reads every cell and every mark the batch's keys have within their windows, one
    upsert per table writes what moved: the cost is per batch, not per report. With `defer`,
    the upserts are handed to the caller to send with its own writes (the report writer's one
    pipelined round trip on PostgreSQL) instead of being run here.
    """
    reads = Reads()
    judging = ask(session, reads, asks, now=now)
    reads.send(session.connection())
    return judging.judge(session, range(len(asks)), defer=defer)


def ask(session: Session, reads: Reads, asks: Sequence[Sequence[rules.Check]], *,
        now: datetime) -> Judging:
    """Queue on `reads` what judging these asks needs (the keys' locks, their cells and marks);
    once they are sent, `Judging.judge` decides any of the asks in order.

    The report writer asks for every report of its batch before it knows which are replays of
    stored receipts, so that these reads go in the round trip that reads the receipts; it then
    judges only those left. Reading and locking a few keys more than are judged changes nothing.
    """
    rates = sorted({(c.scope, c.key) for ask in asks for c in ask if isinstance(c, rules.Rate)})
    marks = sorted({(c.scope, c.key, c.item, c.window_s) for ask in asks for c in ask
                    if isinstance(c, rules.Spread)})
    judging = Judging(asks, now)
    if not rates and not marks:
        return judging
    if session.new or session.dirty or session.deleted:
        session.flush()  # the reads below go to the connection, past the session
    t = now.timestamp()
    for scope in sorted({s for s, _ in rates}):
        _prune(reads, scope, t)
    spreads = sorted({(s, k) for s, k, _, _ in marks})
    _serialise(session, reads, [*rates, *spreads])
    # One window per scope (an hour for every spread today): the longest asked for counts.
    since = now - timedelta(seconds=max((w for *_, w in marks), default=0.0))
    judging.known = reads.ask(_KNOWN, {
        **_columns_of("cells", rates, ("scope", "key")),
        **_columns_of("spreads", spreads, ("scope", "key")),
        **_columns_of("marks", sorted({(s, k, i) for s, k, i, _ in marks}),
                      ("scope", "key", "item")),
        "since": since})
    return judging


@dataclass(eq=False)
class Judging:
    """A batch's asks, and once their reads are sent, what the database knows of their keys."""

    asks: Sequence[Sequence[rules.Check]]
    now: datetime
    known: Read | None = None  # None: nothing asked is limited

    def judge(self, session: Session, which: Iterable[int], *,
              defer: Writes | None = None) -> list[rules.Refusal | None]:
        """The asks numbered `which`, judged in that order; the cells and marks they moved are
        written, or with `defer` handed to the caller."""
        chosen = [self.asks[n] for n in which]
        if self.known is None:
            return [None] * len(chosen)
        assert self.known.sent, "the reads asked for were not sent"
        ledger = rules.Ledger()
        for r in self.known.rows:
            if r.what == "tat":
                ledger.tats[(r.scope, r.key)] = r.value
            elif r.what == "count":
                ledger.counts[(r.scope, r.key)] = int(r.value)
            else:
                ledger.touched.add((r.scope, r.key, r.item))
        refusals = rules.judge(ledger, chosen, self.now.timestamp())
        conn = session.connection()
        dialect = conn.dialect.name
        writes: Writes = []
        if ledger.moved_tats:
            writes.append((_UPSERT_CELLS[dialect], [
                {"scope": s, "key": k, "tat": ledger.tats[(s, k)]}
                for s, k in sorted(ledger.moved_tats)]))
        if ledger.moved_marks:
            writes.append((_UPSERT_MARKS[dialect], [
                {"scope": s, "key": k, "item": i, "at": self.now}
                for s, k, i in sorted(ledger.moved_marks)]))
        if defer is not None:
            defer.extend(writes)
        else:
            for statement, rows in writes:
                conn.execute(statement, rows)
        return refusals


def take_each(session: Session, asks: Sequence[Sequence[rules.Allowance]], *,
              now: datetime) -> list[float]:
    """One unit of every allowance in each ask, in order, all or none per ask (`rule.take_each`);
    returns each ask's wait in seconds, 0 when granted.

    For a round of sends whose every message needs its channel's unit and its recipient's: the
    whole round is one lock statement, one read and one upsert, however many messages and
    recipients it holds.
    """
    cells = sorted({(a.scope, a.key) for ask in asks for a in ask})
    if not cells:
        return [0.0] * len(asks)
    t = now.timestamp()
    reads = Reads()
    for scope in sorted({s for s, _ in cells}):
        _prune(reads, scope, t)
    _serialise(session, reads, cells)
    found = reads.ask(_TATS, _columns_of("cells", cells, ("scope", "key")))
    conn = session.connection()
    reads.send(conn)
    tats = {(r.scope, r.key): r.tat for r in found.rows}
    waits, moved = rules.take_each(tats, asks, t)
    if moved:
        conn.execute(_UPSERT_CELLS[conn.dialect.name],
                     [{"scope": sc, "key": k, "tat": tats[(sc, k)]} for sc, k in sorted(moved)])
    return waits


def postpone(session: Session, allowance: rules.Allowance, *, until: float) -> None:
    """No unit of `allowance` for any process before `until` (epoch seconds); a later
    postponement already there stands."""
    reads = Reads()
    _serialise(session, reads, [(allowance.scope, allowance.key)])
    reads.send(session.connection())
    tat = rules.postponed_tat(until, allowance.rate_per_s, allowance.burst)
    cell = session.get(RateCell, (allowance.scope, allowance.key), with_for_update=True)
    if cell is None:
        session.add(RateCell(scope=allowance.scope, key=allowance.key, tat=tat))
    else:
        cell.tat = max(cell.tat, tat)
    session.flush()


def spread(session: Session, *, scope: str, key: str, item: str, limit: int, window_s: float,
           now: datetime) -> int | None:
    """Mark that `key` touched `item`; None if allowed, else the `limit` it would exceed."""
    refused = judge(session, [[rules.Spread(scope, key, item, limit, window_s)]], now=now)[0]
    return refused.limit if refused is not None else None


def spent(session: Session, *, scope: str, key: str, item: str = "") -> bool:
    """Whether a once-only item (a solved challenge) was already used."""
    return session.get(SourceMark, (scope, key, item)) is not None


def spend(session: Session, *, scope: str, key: str, now: datetime, item: str = "") -> None:
    """Mark a once-only item used."""
    session.add(SourceMark(scope=scope, key=key, item=item, at=now))
    session.flush()


def _serialise(session: Session, reads: Reads, cells: Sequence[rules.Cell]) -> None:
    """Make writers of the same keys take turns until they commit.

    SQLite's write transactions already do (one writer at a time). On PostgreSQL a row lock
    cannot cover a row that does not exist yet, so a transaction-scoped advisory lock on each
    key does: two processes never both spend the last unit, nor both insert the first row. The
    locks are taken in one statement, in ascending order, so two batches never deadlock.
    """
    if session.get_bind().dialect.name == "postgresql":
        ids = sorted({zlib.crc32(f"budget\x00{scope}\x00{key}".encode()) - 2**31
                      for scope, key in cells})
        reads.ask(_LOCK_ALL, {"ids": ids})


def _prune(reads: Reads, scope: str, t: float) -> None:
    """Drop cells that have drained, at most once a minute per process and scope."""
    if _next_prune.get(scope, 0.0) > t:
        return
    _next_prune[scope] = t + PRUNE_EVERY_S
    reads.ask(_PRUNE, {"scope": scope, "t": t})


def prune_marks(session: Session, *, older_than: datetime) -> int:
    """Drop marks older than any window uses (the worker calls it)."""
    result = session.execute(delete(SourceMark).where(SourceMark.at < older_than))
    return int(getattr(result, "rowcount", 0) or 0)


_cells, _marks = cast(Table, RateCell.__table__), cast(Table, SourceMark.__table__)


def _among(table: Table, columns: tuple[str, ...], name: str) -> Any:
    """`(columns) IN :name`, and each column IN the values it takes there.

    SQLite answers a row-value IN of more than one row by scanning the whole table: the cells
    grow with every device that ever reported, so each batch's read grew with the crowd. Each
    column's own IN list (`:name_scope`, ...) lets it search the primary key instead; the
    row-value IN keeps the answer exact.
    """
    cols = [table.c[c] for c in columns]
    return and_(*(among(c, f"{name}_{c.name}") for c in cols), rows_among(cols, name))


def _columns_of(name: str, rows: Sequence[tuple[str, ...]], columns: tuple[str, ...],
                ) -> dict[str, Any]:
    """The parameters `_among(..., columns, name)` binds for these rows."""
    return {name: list(rows), **{f"{name}_{c}": sorted({r[i] for r in rows})
                                 for i, c in enumerate(columns)}}


_in = {"cells": _among(_cells, ("scope", "key"), "cells"),
       "spreads": _among(_marks, ("scope", "key"), "spreads"),
       "marks": _among(_marks, ("scope", "key", "item"), "marks")}
_within = _marks.c.at >= bindparam("since")
_PRUNE = delete(_cells).where(_cells.c.scope == bindparam("scope"),
                              _cells.c.tat < bindparam("t"))
_TATS = select(_cells.c.scope, _cells.c.key, _cells.c.tat).where(_in["cells"])
# Everything a batch's limits need, in one round trip: the rate cells' arrival times, per spread
# key how many items it touched in the window, and which of the asked-about items are among them.
_KNOWN = union_all(
    select(literal_column("'tat'").label("what"), _cells.c.scope, _cells.c.key,
           literal_column("''").label("item"), _cells.c.tat.label("value")).where(_in["cells"]),
    select(literal_column("'count'"), _marks.c.scope, _marks.c.key, literal_column("''"),
           sql_cast(func.count(), Float)).where(_in["spreads"], _within)
    .group_by(_marks.c.scope, _marks.c.key),
    select(literal_column("'mark'"), _marks.c.scope, _marks.c.key, _marks.c.item,
           sql_cast(literal_column("0"), Float)).where(_in["marks"], _within))
_LOCK_ALL = text("SELECT pg_advisory_xact_lock(k) FROM "
                 "(SELECT unnest(CAST(:ids AS bigint[])) AS k ORDER BY k) AS ordered")


def _upserts(table: Table, keys: list[str], moved: str) -> dict[str, Any]:
    """Insert a row or move its one column, per dialect, built once."""
    built: dict[str, Any] = {}
    for name, insert_ in (("sqlite", sqlite_insert), ("postgresql", postgresql_insert)):
        statement = insert_(table)
        built[name] = statement.on_conflict_do_update(
            index_elements=keys, set_={moved: statement.excluded[moved]})
    return built


_UPSERT_CELLS = _upserts(_cells, ["scope", "key"], "tat")
_UPSERT_MARKS = _upserts(_marks, ["scope", "key", "item"], "at")
