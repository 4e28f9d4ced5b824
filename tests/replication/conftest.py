"""What the multi-node tests share: a database made on a replicated primary, lifted limits."""

from __future__ import annotations

from sqlalchemy import select

from shelterwatch import db
from shelterwatch.shelters.models import Shelter
from tests.support.databases import prepare
from tests.support.kyiv import import_kyiv
from tests.support.replication import ReplicatedPostgres

# Every phone of these tests is 127.0.0.1 and reports about many shelters: the per-source
# limits (tested on their own in tests/reports) would refuse them, so the tests lift them.
UNLIMITED = {f"SHELTERWATCH_{name.upper()}": "100000000" for name in (
    "reports_per_address_per_minute", "reports_per_device_per_hour",
    "shelters_per_network_per_hour", "shelters_per_device_per_hour",
    "shelters_per_network_issued_per_hour")}


def prepare_on(pg: ReplicatedPostgres, dbname: str) -> list[int]:
    """A migrated database with Kyiv's registry on the primary; returns its shelter ids."""
    pg.primary.execute(f"CREATE DATABASE {dbname}")
    url = pg.multi_host_url(dbname)
    prepare(url, import_kyiv)
    with db.reading(url) as session:
        ids = list(session.execute(select(Shelter.id).order_by(Shelter.id)).scalars())
    db.dispose(url)
    return ids
