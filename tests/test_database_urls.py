"""A libpq host list in DATABASE_URL: what a node must accept to follow a promoted primary."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from shelterwatch import db
from shelterwatch.config import load

LIST = "postgresql://sw@db1:5432,db2:5433/shelterwatch?target_session_attrs=read-write"


def test_a_host_list_reaches_every_connection_with_both_servers() -> None:
    settings = load(database_url=LIST, replica_url="postgresql://sw@db2:5433/shelterwatch")
    url = make_url(settings.database_url)
    assert url.query["host"] == ("db1:5432", "db2:5433")
    assert url.query["target_session_attrs"] == "read-write"
    assert not db.is_sqlite(settings.database_url)
    assert db.libpq_conninfo(settings.database_url) == (
        "host=db1,db2 port=5432,5433 dbname=shelterwatch user=sw "
        "target_session_attrs=read-write")
    assert settings.stale_read_url == "postgresql://sw@db2:5433/shelterwatch"


def test_without_a_replica_stale_reads_go_to_the_primary() -> None:
    settings = load(database_url="postgresql://sw@db1/shelterwatch")
    assert settings.stale_read_url == settings.database_url == "postgresql://sw@db1/shelterwatch"


hosts = st.lists(st.tuples(st.from_regex(r"[a-z][a-z0-9.-]{0,20}", fullmatch=True),
                           st.integers(1, 65535)), min_size=1, max_size=4)


@given(hosts)
def test_every_listed_host_survives_normalising(listed: list[tuple[str, int]]) -> None:
    authority = ",".join(f"{h}:{p}" for h, p in listed)
    info = db.libpq_conninfo(f"postgresql://sw@{authority}/sw?target_session_attrs=read-write")
    assert f"host={','.join(h for h, _ in listed)} " in info
    assert f"port={','.join(str(p) for _, p in listed)} " in info
    assert info.endswith("target_session_attrs=read-write")
