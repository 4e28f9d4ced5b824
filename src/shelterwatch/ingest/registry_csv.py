"""CSV registries. Line numbers count physical lines, so a user can open the file at the row."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

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
        start = reader.line_num + 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except (csv.Error, UnicodeDecodeError) as exc:
                yield Rejection(f"line {start}", f"unreadable row: {exc}")
                start = reader.line_num + 1
                continue
            location = f"line {start}"
            start = reader.line_num + 1
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
