"""Group commit for residents' reports: one writer, one transaction for all reports waiting.

When the siren sounds, thousands of phones report at once, and each report needs the log's lock
and a durable commit (an fsync) before its 201 may leave (DESIGN §3.1). Taking turns, every report
pays a whole transaction alone. Databases amortise that cost by flushing many commits with one
fsync; this does the same one level up: a single writer thread per process takes every report
waiting at that moment, writes them in one transaction under one lock of the log, commits, and
only then answers each request. A request that arrives while a batch is being written simply
waits for the next one, so batches grow with the load and stay at one report when it is quiet.
Under a steady load the senders of one batch come back while the next is being written, so left
alone the batches would split them in two halves taking turns, each paying a transaction; the
writer therefore gives a batch a moment (GATHER_S) to fill up to as many senders as were seen
around the last one, as PostgreSQL's commit_delay does for its commits.

A process that shows what it stores (the status board, the stream) catches up with the log once
per batch, on the writer's thread, before any of its reports is answered (`after_commit`): every
resident reads their own write, and no request pays a thread hop and a read of the log of its own.

Each report still gets its own answer: a replayed `Idempotency-Key`, a rate limit or an unknown
shelter refuses that report alone. Should the batch as a whole fail (a database error, a key
committed meanwhile by another process), every report in it is retried in its own transaction,
so one bad report never fails another.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import orjson
from sqlalchemy import Connection, Table, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shelterwatch import db
from shelterwatch.budgets import service as budgets
from shelterwatch.clock import utcnow
from shelterwatch.errors import Conflict, ShelterwatchError
from shelterwatch.intake import core as intake
from shelterwatch.intake import service as intake_service
from shelterwatch.intake.memo import Memo
from shelterwatch.listed import among
from shelterwatch.observations import idempotency
from shelterwatch.observations.models import IdempotencyKey
from shelterwatch.reads import Reads
from shelterwatch.reports import service as reports
from shelterwatch.reports.limits import Ask, Checking, ReportLimits
from shelterwatch.reports.schemas import ReportIn
from shelterwatch.rules.witness import Witness

logger = logging.getLogger(__name__)
SCOPE = "reports"
IDLE_EXIT_S = 5.0  # a quiet writer thread ends; the next report starts a new one
# How long a batch may wait for the senders seen around the last one (a report waits for its
# commit anyway; this is a fraction of one transaction's cost).
GATHER_S = 0.002
# A batch that lost its database before it asked to commit is written again on a new connection
# for this long (a primary failing over to its standby takes about a second), so the residents
# waiting on it get their receipts instead of a 503.
RECONNECT_S = 5.0
RECONNECT_PAUSE_S = 0.2
Outcome = idempotency.Receipt | BaseException


@dataclass(eq=False)
class Job:
    """One request waiting for its answer."""

    report: ReportIn
    key: str | None
    digest: str
    address: str | None
    answer: Callable[[Outcome], None]
    who: Witness | None = None  # the witness this report counts as (rules/witness.py)
    admitted: bool = False  # passed the rate limits (counted once, even when retried alone)
    same_as: Job | None = field(default=None, repr=False)  # an earlier job with the same key


class ReportWriter:
    """The process's single writer of residents' reports to one database."""

    def __init__(self, database_url: str, *, limits: ReportLimits, tracking_prefix: str,
                 on_batch: Callable[[float], None] | None = None,
                 after_commit: Callable[[int | None, list[dict[str, Any]]], object] | None = None,
                 ) -> None:
        self.database_url = database_url
        self.on_batch = on_batch  # told each batch's size (the /metrics histogram)
        # Called once a batch is stored, before its reports are answered (read your writes),
        # with the log's seq its commit reached when known and the facts' rows it committed
        # (its process applies them without reading them back: `LogFollower.hand_over`).
        self.after_commit = after_commit
        self._written: list[dict[str, Any]] = []  # the current batch's committed facts' rows
        self.limits = limits
        self.tracking_prefix = tracking_prefix
        self._waiting: list[Job] = []
        self._cond = threading.Condition()
        self._running = False
        self._senders = 0  # the last batch's reports and those that arrived while it was written
        self._conn: Connection | None = None
        self._committing = False  # the current batch has asked to commit: its fate is unknown
        self._memo = Memo()  # what the last batch knew, while no one else has written

    async def submit(self, report: ReportIn, *, key: str | None, address: str | None,
                     witness: Witness | None = None) -> Any:
        """Queue a report and wait, without holding a thread, until it is committed or refused.

        `witness` is who the report counts as when the caller knows (a resident channel's chat
        or sender number); else the client's device id and address decide."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()

        def answer(outcome: Outcome) -> None:
            loop.call_soon_threadsafe(_settle, future, outcome)

        digest = idempotency.request_hash(report.model_dump()) if key is not None else ""
        who = witness or self.limits.witness(device_id=report.device_id, address=address)
        self.put(Job(report, key, digest, address, answer, who))
        outcome = await future
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def put(self, job: Job) -> None:
        with self._cond:
            self._waiting.append(job)
            if not self._running:
                self._running = True
                threading.Thread(target=self._run, name="report-writer", daemon=True).start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._waiting:
                    self._cond.wait(IDLE_EXIT_S)
                if not self._waiting:
                    self._running = False
                    if self._conn is not None:
                        self._conn.close()
                        self._conn = None
                    return
                gather_until = time.monotonic() + GATHER_S
                while len(self._waiting) < self._senders:
                    left = gather_until - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                jobs, self._waiting = self._waiting, []
            self._write(jobs)
            with self._cond:
                self._senders = len(jobs) + len(self._waiting)

    def _write(self, jobs: list[Job]) -> None:
        """One transaction for all; if it fails as a whole, one transaction each."""
        if self.on_batch is not None:
            self.on_batch(len(jobs))
        self._written = []
        try:
            outcomes = self._reconnecting(jobs)
        except Exception:
            outcomes = []
            for job in jobs:
                job.same_as = None
                try:
                    outcomes.extend(self._transaction([job]))
                except IntegrityError:  # the same key, committed meanwhile by another process
                    outcomes.append(self._replay_alone(job))
                except Exception as exc:
                    outcomes.append(exc)
        if self.after_commit is not None \
                and any(isinstance(o, idempotency.Receipt) for o in outcomes):
            try:
                self.after_commit(self._memo.seq, self._written)
            except Exception:  # the reports are stored: their receipts are still true
                logger.exception("catching up after a batch of reports failed")
        for job, outcome in zip(jobs, outcomes, strict=True):
            job.answer(outcome)

    def _reconnecting(self, jobs: list[Job]) -> list[Outcome]:
        """The batch's transaction, again on a new connection while the database is away and
        nothing was sent to commit (so nothing of it can have been recorded)."""
        deadline = time.monotonic() + RECONNECT_S
        while True:
            try:
                return self._transaction(jobs)
            except Exception as exc:
                if self._committing or not db.is_disconnect(exc) \
                        or time.monotonic() >= deadline:
                    raise
            for job in jobs:
                job.same_as = None
            time.sleep(RECONNECT_PAUSE_S)

    def _transaction(self, jobs: list[Job]) -> list[Outcome]:
        """One transaction on the writer's own connection, held between batches so that no
        batch pays a pool check-out and its liveness ping; any failure discards it."""
        if self._conn is None:
            self._conn = db.engine_for(self.database_url).connect()
        session = Session(bind=self._conn, expire_on_commit=False)
        written: list[dict[str, Any]] = []
        try:
            self._committing = False
            with idempotency.one_writer(session):
                outcomes = self._in(session, jobs, written)
                self._committing = True
                session.commit()
            self._memo.settle()
            self._written += written
            return outcomes
        except BaseException:
            self._memo.forget()
            session.close()
            self._conn.invalidate()
            self._conn.close()
            self._conn = None
            raise
        finally:
            session.close()

    def _asked_to_commit(self) -> None:
        """From here the batch may be committed even if no answer comes back."""
        self._committing = True

    def _in(self, session: Session, jobs: list[Job],
            written: list[dict[str, Any]]) -> list[Outcome]:
        now = utcnow()
        outcomes: dict[int, Outcome] = {}
        waiting: list[int] = []
        # The transaction's opening reads, in one round trip on PostgreSQL (`reads`): the
        # receipts stored for the batch's keys; the limits' locks and cells for every report
        # not yet admitted (before it is known which are replays: those are judged out below);
        # the log's head under its lock. In this order, as read one by one before.
        reads = Reads()
        keys = sorted({j.key for j in jobs if j.key is not None})
        receipts_read = reads.ask(STORED, {"keys": keys}) if keys else None
        unadmitted = [n for n, job in enumerate(jobs) if not job.admitted]
        checking = self.limits.prepare(session, reads, [_ask(jobs[n]) for n in unadmitted],
                                       now=now)
        head = intake_service.ask_head(reads, len(jobs), self.tracking_prefix)
        reads.send(session.connection())
        stored = {r.key: r for r in receipts_read.rows} if receipts_read else {}
        first_by_key: dict[str, Job] = {}
        for n, job in enumerate(jobs):
            try:
                refused = self._replayed(job, stored, first_by_key)
            except ShelterwatchError as exc:
                outcomes[n] = exc
                continue
            if refused is not None:
                outcomes[n] = refused
            elif job.same_as is None:
                waiting.append(n)
        counted: budgets.Writes = []  # the limits' rows, sent with the batch's own
        fresh = self._admitted(session, jobs, waiting, outcomes, checking,
                               {n: i for i, n in enumerate(unadmitted)}, counted)
        items = [_item(jobs[n]) for n in fresh]

        def receipts(results: list[Any]) -> list[tuple[Any, list[dict[str, Any]]]]:
            """Each report's answer, and the rows remembering them, written with the batch."""
            remembered = []
            for n, result in zip(fresh, results, strict=True):
                if isinstance(result, ShelterwatchError):
                    outcomes[n] = result
                    continue
                receipt = idempotency.Receipt(201, reports.receipt(result))
                outcomes[n] = receipt
                job = jobs[n]
                if job.key is not None:
                    remembered.append({"scope": SCOPE, "key": job.key,
                                       "request_hash": job.digest, "status_code": 201,
                                       "response": orjson.dumps(receipt.body).decode(),
                                       "created_at": now})
            return [*counted, *([(REMEMBER, remembered)] if remembered else [])]

        intake_service.submit_many(session, items, now=now, tracking_prefix=self.tracking_prefix,
                                   memo=self._memo, also=receipts, ahead=head,
                                   committing=self._asked_to_commit, written=written)
        for n, job in enumerate(jobs):
            if job.same_as is not None:  # a retry that arrived in the same batch as its first
                outcomes[n] = outcomes[jobs.index(job.same_as)]
        return [outcomes[n] for n in range(len(jobs))]

    def _replayed(self, job: Job, stored: dict[str, Any],
                  first_by_key: dict[str, Job]) -> Outcome | None:
        """A stored receipt for this job, or None when it is to be written (or is a retry of
        one earlier in the batch); a key reused for a different request raises."""
        if job.key is None:
            return None
        row = stored.get(job.key)
        if row is not None:
            if row.request_hash != job.digest:
                raise _reused(job.key)
            return idempotency.Receipt(row.status_code, orjson.loads(row.response))
        first = first_by_key.get(job.key)
        if first is not None:
            if first.digest != job.digest:
                raise _reused(job.key)
            job.same_as = first  # a retry costs no quota
            return None
        first_by_key[job.key] = job
        return None

    def _admitted(self, session: Session, jobs: list[Job], waiting: list[int],
                  outcomes: dict[int, Outcome], checking: Checking, asked: dict[int, int],
                  counted: budgets.Writes) -> list[int]:
        """The waiting jobs the rate limits let through, judged as one batch in arrival order;
        the others get their 429; what they counted goes into `counted`, to be written with the
        batch. A job admitted once (then retried alone) is not counted twice. `asked` numbers
        each unadmitted job as `checking` knows it."""
        asking = [n for n in waiting if not jobs[n].admitted]
        judged = checking.check(session, [asked[n] for n in asking], defer=counted)
        for n, refused in zip(asking, judged, strict=True):
            if refused is not None:
                outcomes[n] = refused
            else:
                jobs[n].admitted = True
        return [n for n in waiting if n not in outcomes]

    def _replay_alone(self, job: Job) -> Outcome:
        if job.key is None:
            return RuntimeError("a report without a key failed on a unique constraint")
        with db.reading(self.database_url) as session:
            first = idempotency.replay(session, scope=SCOPE, key=job.key, digest=job.digest)
        return first if first is not None else RuntimeError("the report could not be stored")


def _ask(job: Job) -> Ask:
    return Ask(job.report.device_id, job.address, job.report.shelter_id, job.who)


def _item(job: Job) -> intake.Item:
    fields = reports.intake_fields(job.report, reporter=job.who.reporter if job.who else "",
                                   source=job.who.source if job.who else "")
    return intake.Item(**fields)


_keys = cast(Table, IdempotencyKey.__table__)
REMEMBER = insert(_keys)
STORED = select(_keys.c.key, _keys.c.request_hash, _keys.c.status_code, _keys.c.response).where(
    _keys.c.scope == SCOPE, among(_keys.c.key, "keys"))


def _reused(key: str) -> Conflict:
    return Conflict(f"Idempotency-Key {key!r} was already used for a different request")


def _settle(future: asyncio.Future[Outcome], outcome: Outcome) -> None:
    if not future.done():
        future.set_result(outcome)
