"""What several benchmarks set up alike: the real Kyiv registry on a fresh database, and a fresh
PostgreSQL database for one run. Scripts import it as `bench.common` (the repository root on
sys.path, as each script puts it)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from shelterwatch import db, migrate
from shelterwatch.areas import service as areas
from shelterwatch.clock import utcnow

KYIV = Path(str(resources.files("shelterwatch.data.kyiv")))
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"


def kyiv_database(url: str) -> None:
    """Migrate `url` and load the bundled areas and Kyiv's 3,694 shelters (kmda-2022)."""
    from shelterwatch.ingest import mapping, registry_csv
    from shelterwatch.shelters import importer

    migrate.upgrade(url)
    with db.transaction(url) as session:
        areas.load_bundled(session, now=utcnow())
        importer.import_records(
            session, registry_csv.read(KYIV / "kyiv_shelters_2022-02-25.csv",
                                       mapping.load(KYIV / "kmda-2022.toml")),
            source="kmda-2022", now=utcnow())


def pg_database(admin: str, name: str) -> str:
    """A new, empty database `name` on the server of `admin` (dropped first if it exists)."""
    admin_pg = admin.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(admin_pg, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return make_url(admin).set(database=name).render_as_string(hide_password=False)
