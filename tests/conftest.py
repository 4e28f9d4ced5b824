"""Fixtures shared by every test: a fresh migrated database per test, on SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from sqlalchemy.orm import Session

from shelterwatch import db
from shelterwatch.app import create_app
from shelterwatch.auth import service as auth
from shelterwatch.clock import utcnow
from shelterwatch.config import Settings, get_settings
from tests.support.databases import Templates
from tests.support.kyiv import import_kyiv
from tests.support.server import LiveServer

# Property tests of the pure rules: the full suite tries many cases, `make check` (the fast lane,
# profile "check") few, so a pure rule's tests take seconds there; no deadline on a shared machine.
settings.register_profile("default", max_examples=150, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("check", max_examples=15, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("default")


def pytest_report_header() -> str:
    from tests.support.databases import postgres_admin_url

    return f"shelterwatch database lane: {'postgresql' if postgres_admin_url() else 'sqlite'}"


@pytest.fixture(autouse=True)
def _never_the_developers_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A test that asks for no database gets an empty one of its own, never ./var's."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'unmigrated.sqlite3'}")
    monkeypatch.setenv("SHELTERWATCH_SECRET_KEY_FILE", str(tmp_path / "var" / "secret_key"))
    monkeypatch.setenv("SHELTERWATCH_LOG_KEY_PATH", str(tmp_path / "log-signing-key.pem"))
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    t = Templates(tmp_path_factory.mktemp("databases"))
    yield t
    t.close()


def _database(templates: Templates, name: str,
              fill: Callable[[str], None] | None = None) -> Iterator[str]:
    url = templates.copy(name, fill)
    yield url
    templates.drop(url)


@pytest.fixture
def db_url(templates: Templates) -> Iterator[str]:
    """A migrated database with the bundled areas and no shelters."""
    yield from _database(templates, "areas")


@pytest.fixture
def kyiv_db_url(templates: Templates) -> Iterator[str]:
    """A migrated database holding the real Kyiv registry (3,694 shelters)."""
    yield from _database(templates, "kyiv", import_kyiv)


def _settings(url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SHELTERWATCH_FOLLOW_INTERVAL_S", "0.05")
    monkeypatch.setenv("SHELTERWATCH_DEVICE_POW_BITS", "6")  # the real work, made short
    # Live coverage is built for every area with shelters when an app starts: seconds of CPU per
    # app for the Kyiv registry. Only the tests about coverage ask for it (`coverage_areas`).
    monkeypatch.setenv("SHELTERWATCH_COVERAGE_AREAS", "")
    get_settings.cache_clear()
    settings = get_settings()
    return settings


@pytest.fixture
def settings(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    yield _settings(db_url, monkeypatch)
    get_settings.cache_clear()


@pytest.fixture
def kyiv_settings(kyiv_db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    yield _settings(kyiv_db_url, monkeypatch)
    get_settings.cache_clear()


@pytest.fixture
def session(settings: Settings) -> Iterator[Session]:
    """A write session on the test's database; the test commits what it wants kept."""
    s = db.session_factory(settings.database_url)()
    yield s
    s.rollback()
    s.close()


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture
def kyiv_client(kyiv_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(kyiv_settings)) as c:
        yield c


@pytest.fixture
def make_token() -> Callable[..., str]:
    """Create a token with a role (and keyholder shelters) in the test's current database."""

    def make(role: str, name: str = "test holder", shelter_ids: tuple[int, ...] = ()) -> str:
        with db.transaction(get_settings().database_url) as s:
            _, plaintext = auth.create(s, role=role, name=name, now=utcnow(),
                                       shelter_ids=shelter_ids)
        return plaintext

    return make


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Start real servers on the current settings' database; all are stopped at the end."""
    servers: list[LiveServer] = []

    def start(**env: str) -> LiveServer:
        base = {"DATABASE_URL": get_settings().database_url,
                "SHELTERWATCH_FOLLOW_INTERVAL_S": "0.1"}
        server = LiveServer({**base, **env}, tmp_path / f"server-{len(servers)}.log")
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()
