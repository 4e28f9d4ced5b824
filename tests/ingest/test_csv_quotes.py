"""An unterminated quote in a registry CSV costs its own line, not every line after it."""

from __future__ import annotations

from pathlib import Path

from shelterwatch.ingest import mapping, registry_csv
from shelterwatch.ingest.records import Rejection


def test_an_unterminated_quote_rejects_its_line_and_the_rest_are_read(tmp_path: Path) -> None:
    path = tmp_path / "registry.csv"
    path.write_text("id,name,kind,lat,lon\n"
                    '1,"Школа №5,shelter,50.40,30.50\n'
                    "2,Ліцей,shelter,50.41,30.51\n"
                    "3,Гімназія,shelter,50.42,30.52\n")
    items = list(registry_csv.read(path, mapping.DEFAULT))
    rejected = [i for i in items if isinstance(i, Rejection)]
    kept = [i for i in items if not isinstance(i, Rejection)]
    assert [(r.location, "unterminated quote" in r.reason) for r in rejected] == [("line 2", True)]
    assert [k.name for k in kept] == ["Ліцей", "Гімназія"]


def test_a_quoted_field_that_spans_lines_on_purpose_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "registry.csv"
    path.write_text('id,name,kind,lat,lon\n1,"Школа\n№5",shelter,50.40,30.50\n'
                    '2,Ліцей,shelter,50.41,30.51\n')
    items = list(registry_csv.read(path, mapping.DEFAULT))
    assert not [i for i in items if isinstance(i, Rejection)]
    assert len(items) == 2
