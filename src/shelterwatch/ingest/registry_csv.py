"""CSV registries. Line numbers count physical lines, so a user can open the file at the row."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from shelterwatch.ingest.mapping import ColumnMapping
from shelterwatch.ingest.records import Rejection, RowError, ShelterRecord
from shelterwatch.ingest.rows import to_record


def read(path: Path, mapping: ColumnMapping) -> Iterator[ShelterRecord | Rejection]:
    with path.open(newline="", encoding=mapping.encoding) as fh:
        reader = csv.DictReader(fh, delimiter=mapping.delimiter)
        try:
            header = reader.fieldnames
        except (csv.Error, UnicodeDecodeError) as exc:
            yield Rejection("line 1", f"unreadable header: {exc}")
            return
        if not header:
            yield Rejection("line 1", "the file is empty")
            return
        yield from _records(reader, list(header), mapping, offset=0)


def _records(reader: csv.DictReader[str], header: list[str], mapping: ColumnMapping,
             offset: int) -> Iterator[ShelterRecord | Rejection]:
    """Rows as records or rejections; `offset` is the physical line before the reader's first."""
    start = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except (csv.Error, UnicodeDecodeError) as exc:
            yield Rejection(f"line {start + offset}", f"unreadable row: {exc}")
            start = reader.line_num + 1
            continue
        line = start + offset
        location = f"line {line}"
        start = reader.line_num + 1
        malformed = None in row or any(v is None for v in row.values())
        swallowed = _swallowed(row) if malformed else None
        if swallowed is not None:
            # An opening quote never closed on its line: the parser read the following lines
            # into one field. Reject this line alone and read the others again as rows.
            yield Rejection(location, 'unterminated quote: a field opened with " runs past the '
                                      "end of its line")
            again = csv.DictReader(io.StringIO(swallowed), fieldnames=header,
                                   delimiter=mapping.delimiter)
            yield from _records(again, header, mapping, offset=line)
            continue
        if None in row:
            yield Rejection(location, f"{len(header) + len(row[None])} fields, header has "
                                      f"{len(header)}")
            continue
        if any(v is None for v in row.values()):
            yield Rejection(location, f"fewer fields than the header's {len(header)}")
            continue
        try:
            yield to_record(row, mapping, location=location)
        except RowError as exc:
            yield Rejection(location, str(exc))


def _swallowed(row: dict[str | None, Any]) -> str | None:
    """The lines after the first inside a field that ran on over line ends, if any."""
    values: list[Any] = []
    for key, value in row.items():
        values.extend(value if key is None and isinstance(value, list) else [value])
    for value in values:
        if isinstance(value, str) and "\n" in value:
            return value.split("\n", 1)[1]
    return None
