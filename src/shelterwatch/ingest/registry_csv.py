"""CSV registries. Line numbers count physical lines, so a user can open the file at the row."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from shelterwatch.ingest.mapping import ColumnMapping
from shelterwatch.ingest.records import Rejection, RowError, ShelterRecord
from shelterwatch.ingest.rows import RecordMaker


def read(path: Path, mapping: ColumnMapping) -> Iterator[ShelterRecord | Rejection]:
    with path.open(newline="", encoding=mapping.encoding) as fh:
        reader = csv.reader(fh, delimiter=mapping.delimiter)
        try:
            header = next(reader, None)
        except (csv.Error, UnicodeDecodeError) as exc:
            yield Rejection("line 1", f"unreadable header: {exc}")
            return
        if not header:
            yield Rejection("line 1", "the file is empty")
            return
        yield from _records(reader, header, RecordMaker(mapping, header), mapping, offset=0)


def _records(reader: Any, header: list[str], maker: RecordMaker, mapping: ColumnMapping,
             offset: int) -> Iterator[ShelterRecord | Rejection]:
    """Rows as records or rejections; `offset` is the physical line before the reader's first.

    Lists from `csv.reader` zipped onto the header: a `DictReader` row cost more than the rest
    of reading it. Blank lines are skipped, as a `DictReader` skips them."""
    start = reader.line_num + 1
    width = len(header)
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except (csv.Error, UnicodeDecodeError) as exc:
            yield Rejection(f"line {start + offset}", f"unreadable row: {exc}")
            start = reader.line_num + 1
            continue
        line = start + offset
        start = reader.line_num + 1
        if not fields:
            continue
        location = f"line {line}"
        if len(fields) != width:
            swallowed = _swallowed(fields)
            if swallowed is not None:
                # An opening quote never closed on its line: the parser read the following
                # lines into one field. Reject this line alone and read the others again.
                yield Rejection(location, 'unterminated quote: a field opened with " runs past '
                                          "the end of its line")
                again = csv.reader(io.StringIO(swallowed), delimiter=mapping.delimiter)
                yield from _records(again, header, maker, mapping, offset=line)
                continue
            if len(fields) > width:
                yield Rejection(location, f"{len(fields)} fields, header has {width}")
            else:
                yield Rejection(location, f"fewer fields than the header's {width}")
            continue
        try:
            yield maker.make_fields(fields, location=location)
        except RowError as exc:
            yield Rejection(location, str(exc))


def _swallowed(fields: list[str]) -> str | None:
    """The lines after the first inside a field that ran on over line ends, if any."""
    for value in fields:
        if "\n" in value:
            return value.split("\n", 1)[1]
    return None
