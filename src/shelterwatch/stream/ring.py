"""The process's recent stream events, shared by every subscriber.

One list of encoded events, addressed by a running index that only grows: a subscriber is just
the index of the next event it has not written, so a new fact costs one append however many are
listening, and a client that resumes with a recent Last-Event-ID is served without the database.
Old events are trimmed in slices; a subscriber left behind a trim reconnects and resumes from the
log (`floor` says which seqs the ring still holds in full).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

from shelterwatch.stream.events import Event


class EventRing:
    """The last `capacity` (up to a quarter more) events in seq order."""

    __slots__ = ("_base", "_chunks", "_seqs", "capacity", "floor", "position")

    def __init__(self, capacity: int, *, position: int = 0) -> None:
        self.capacity = max(1, capacity)
        self._seqs: list[int] = []
        self._chunks: list[bytes] = []
        self._base = 0  # the running index of _chunks[0]
        self.position = position  # the last fact seq handed in, carried or not
        self.floor = position  # every event with a seq above it is held

    @property
    def end(self) -> int:
        """The running index the next event will get."""
        return self._base + len(self._chunks)

    def __len__(self) -> int:
        return len(self._chunks)

    def extend(self, events: Sequence[Event], position: int) -> None:
        """Add events that follow `position` (in seq order), up to the fact seq `position`."""
        for seq, chunk in events:
            if seq > self.position:
                self._seqs.append(seq)
                self._chunks.append(chunk)
                self.position = seq
        self.position = max(self.position, position)
        extra = len(self._chunks) - self.capacity
        # Trimmed a quarter at a time, so the list's shift is paid once per many appends.
        if extra > self.capacity // 4:
            self.floor = self._seqs[extra - 1]
            del self._seqs[:extra], self._chunks[:extra]
            self._base += extra

    def index_after(self, seq: int) -> int | None:
        """The running index of the first event after `seq`; None when some were trimmed."""
        if seq < self.floor:
            return None
        return self._base + bisect_right(self._seqs, seq)

    def holds(self, index: int) -> bool:
        """Whether the event at the running index (or any later one) is still held."""
        return index >= self._base

    def since(self, index: int, after_seq: int = 0) -> list[bytes] | None:
        """Events from the running index on (only those with seq > `after_seq`); None when
        the index was trimmed away."""
        start = index - self._base
        if start < 0:
            return None
        if after_seq:
            start = max(start, bisect_right(self._seqs, after_seq, start))
        return self._chunks[start:]
