"""What a report writer remembers between its batches, and when it may trust it.

Every change to the database appends a fact under the log's lock, so the log head's seq is the
version of all of it: a batch that finds the head where this writer's own last commit left it can
use what that commit knew instead of reading it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from shelterwatch.clock import as_utc
from shelterwatch.intake.core import Case, Known, Place, Span
from shelterwatch.rules import status as status_rules

MEMO_LIMIT = 50_000  # shelters a writer remembers between batches before it starts afresh


@dataclass
class Memo:
    """What a writer's last committed batch knew of its shelters, kept for its next batch.

    Every change to the database appends a fact under the log's lock, so the log head's seq is
    the version of all of it. A batch that finds the head where this writer's own last commit
    left it knows that the shelters, statuses, evidence and open cases it read and wrote then
    are still what is stored, and reads only the shelters it has not met. Anything else —
    another writer's fact, a failed commit, a clock that went back — and it reads everything
    again.
    """

    seq: int | None = None
    now: datetime | None = None
    places: dict[int, Place] = field(default_factory=dict)
    evidence: dict[int, list[status_rules.Evidence]] = field(default_factory=dict)
    statuses: dict[int, status_rules.Identity] = field(default_factory=dict)
    cases: dict[int, Case] = field(default_factory=dict)  # the open case of each that has one
    alerts: list[Span] | None = None  # alerts not over at `now`
    quarantined: frozenset[str] | None = None  # sources set aside
    ancestors: dict[str, list[str]] = field(default_factory=dict)
    staged: tuple[int, datetime, Known] | None = None

    def forget(self) -> None:
        self.seq = self.now = self.staged = None
        self.places, self.evidence, self.statuses, self.cases = {}, {}, {}, {}
        self.alerts, self.ancestors, self.quarantined = None, {}, None

    def holds(self, seq: int, now: datetime) -> bool:
        return self.seq == seq and self.now is not None and now >= self.now

    def settle(self) -> None:
        """The staged batch committed: remember what it read and wrote."""
        if self.staged is None:
            return
        seq, now, state = self.staged
        if len(self.places) + len(state.shelters) > MEMO_LIMIT:
            self.forget()
        at = as_utc(now)
        for sid, place in state.shelters.items():
            self.places[sid] = place
            self.evidence[sid] = status_rules.carried(state.evidence.get(sid, []), now=at)
            if sid in state.statuses:
                self.statuses[sid] = state.statuses[sid]
            if sid in state.open_cases:
                self.cases[sid] = state.open_cases[sid]
            else:
                self.cases.pop(sid, None)
        self.alerts = state.spans
        self.quarantined = state.quarantined
        self.ancestors.update(state.ancestors)
        self.seq, self.now, self.staged = seq, now, None
