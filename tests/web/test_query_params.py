"""`/v1/nearest` reads its query string by hand; it must read it as the standard library does."""

from __future__ import annotations

from urllib.parse import parse_qsl

from hypothesis import given
from hypothesis import strategies as st

from shelterwatch.web.nearest_route import query_params

_PIECES = st.sampled_from(["lat", "lon", "limit", "step_free", "threat", "=", "&", "%", "+",
                           "%3D", "%26", "50.45", "-", ";", "", "ї", "%D1%97", "\x00", " "])


@given(st.lists(_PIECES, max_size=12).map("".join))
def test_the_query_string_reads_as_parse_qsl_reads_it(text: str) -> None:
    raw = text.encode("utf-8")
    assert query_params(raw) == dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True))


def test_a_repeated_name_keeps_its_last_value() -> None:
    assert query_params(b"lat=1&lon=2&lat=3") == {"lat": "3", "lon": "2"}
