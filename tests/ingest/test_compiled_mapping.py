"""A mapping compiled for a file's header reads every field as the mapping itself says."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st

from shelterwatch.ingest.mapping import FIELDS, ColumnMapping
from shelterwatch.ingest.records import RowError
from shelterwatch.ingest.rows import RecordMaker

COLUMNS = ["id", "name", "address", "lat", "lon", "kind", "capacity", "Назва", "district"]
VALUES = st.one_of(st.none(), st.sampled_from(["", " ", "\u00a0", " x ", "1", "Підвал"]),
                   st.text(max_size=5))
MAPPINGS = st.builds(
    ColumnMapping,
    columns=st.dictionaries(st.sampled_from(FIELDS),
                            st.sampled_from([*COLUMNS, "{Назва} {district}", "missing"]),
                            max_size=6),
    defaults=st.dictionaries(st.sampled_from(FIELDS), st.sampled_from(["d", "24_7", "5"]),
                             max_size=4),
)


@given(MAPPINGS, st.lists(st.sampled_from(COLUMNS), min_size=1, unique=True), st.data())
def test_compiled_fields_equal_the_mappings_own_values(mapping: ColumnMapping,
                                                       header: list[str],
                                                       data: st.DataObject) -> None:
    row = {c: data.draw(VALUES) for c in header}
    want = {}
    for name in FIELDS:
        try:
            want[name] = mapping.value(row, name)
        except ValueError:
            return  # a template naming a column the file lacks: rejected either way
    assert RecordMaker(mapping, header).raw(row) == want
    assert RecordMaker(mapping).raw(row) == want


CSV_VALUES = st.one_of(st.sampled_from(["", " ", "\u00a0", " x ", "1", "50.45", "30,52", "simple",
                                        "shelter", "yes", "Підвал"]), st.text(max_size=5))


def _outcome(make: Callable[[], object]) -> object:
    try:
        return make()
    except RowError as exc:
        return f"rejected: {exc}"


@given(MAPPINGS, st.lists(st.sampled_from(COLUMNS), min_size=1), st.data())
def test_a_csv_row_read_by_position_is_the_record_of_its_dict(mapping: ColumnMapping,
                                                              header: list[str],
                                                              data: st.DataObject) -> None:
    """The CSV reader's list fast path: same record, same reason, repeated columns included."""
    fields = [data.draw(CSV_VALUES) for _ in header]
    maker = RecordMaker(mapping, header)
    by_dict = _outcome(lambda: maker.make(dict(zip(header, fields, strict=True)),
                                          location="line 2"))
    assert _outcome(lambda: maker.make_fields(fields, location="line 2")) == by_dict
