"""A database of its own per test, on SQLite and (when it runs) on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shelterwatch.config import get_settings
from tests.support.databases import Templates, postgres_admin_url


@pytest.fixture(params=["sqlite", "postgresql"])
def both_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The bundled areas (and their facts) on each backend, as DATABASE_URL."""
    admin = postgres_admin_url() or "postgresql://postgres@127.0.0.1:5432/postgres"
    if request.param == "postgresql":
        import psycopg

        try:
            psycopg.connect(admin, connect_timeout=2).close()
        except psycopg.Error:
            pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    templates = Templates(tmp_path_factory.mktemp("log"),
                          admin=admin if request.param == "postgresql" else None)
    url = templates.copy("areas")
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    templates.drop(url)
    templates.close()
    get_settings.cache_clear()
