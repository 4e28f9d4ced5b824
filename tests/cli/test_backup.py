"""An operator's backup, and a restore onto a fresh database on either engine."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from shelterwatch import db
from shelterwatch.app import create_app
from shelterwatch.cli.main import app as cli
from shelterwatch.config import Settings, get_settings
from shelterwatch.log.models import Fact
from shelterwatch.observations.models import ShelterStatus
from shelterwatch.shelters.models import Shelter
from tests.reports.helpers import bearer, kyiv_shelter, token
from tests.support.databases import postgres_admin_url

_names = itertools.count()


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[Any]:
    """Makes empty databases (no schema, no facts) to restore onto; dropped at the end."""
    made: list[str] = []

    def make(engine: str) -> str:
        if engine == "sqlite":
            return f"sqlite:///{tmp_path / f'restored-{next(_names)}.sqlite3'}"
        admin = postgres_admin_url()
        if admin is None:
            pytest.skip("no PostgreSQL (set SHELTERWATCH_PG)")
        name = f"sw_restore_{os.getpid()}_{next(_names)}"
        _admin(admin, f"CREATE DATABASE {name}")
        made.append(name)
        return make_url(admin).set(drivername="postgresql+psycopg", database=name) \
            .render_as_string(hide_password=False)

    yield make
    admin = postgres_admin_url()
    for name in made:
        db.dispose(make_url(admin or "").set(drivername="postgresql+psycopg", database=name)
                   .render_as_string(hide_password=False))
        _admin(admin or "", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _admin(admin: str, sql: str) -> None:
    engine = create_engine(admin.replace("postgresql://", "postgresql+psycopg://", 1),
                           isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


def a_night(client: TestClient, url: str) -> None:
    """An alert, locked and open doors, a keyholder's check: statuses and a case to keep."""
    operator = token(url, "operator")
    shelters = [kyiv_shelter(url, i) for i in range(3)]
    keyholder = token(url, "keyholder", (shelters[2].id,))
    assert client.post("/v1/alerts", json={"area_id": "31"},
                       headers=bearer(operator)).status_code == 201
    for n, (shelter, kind) in enumerate(zip(shelters, ["locked", "full", "locked"],
                                            strict=True)):
        r = client.post("/v1/reports", json={"shelter_id": shelter.id, "kind": kind,
                                             "device_id": f"backup-phone-{n}",
                                             "lat": shelter.lat, "lon": shelter.lon})
        assert r.status_code == 201, r.text
    assert client.post("/v1/checks", json={"shelter_id": shelters[2].id, "kind": "open"},
                       headers=bearer(keyholder)).status_code == 201


def as_utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def state(url: str) -> tuple[list[tuple[Any, ...]], int, int]:
    with db.reading(url) as s:
        rows = s.execute(
            select(*ShelterStatus.__table__.columns).order_by(ShelterStatus.shelter_id))
        statuses = [tuple(as_utc(v) if isinstance(v, datetime) else v for v in r) for r in rows]
        return (statuses, s.execute(select(func.count()).select_from(Shelter)).scalar_one(),
                s.execute(select(func.count()).select_from(Fact)).scalar_one())


def use(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()


@pytest.mark.parametrize("target", ["sqlite", "postgresql"])
def test_a_backup_restores_onto_a_fresh_database_whose_log_verifies_and_statuses_match(
        kyiv_client: TestClient, kyiv_settings: Settings, tmp_path: Path, target: str,
        empty_database: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    original = kyiv_settings.database_url
    a_night(kyiv_client, original)
    before = state(original)
    assert any(row[1] == "locked_reported" for row in before[0])

    runner = CliRunner()
    dest = tmp_path / "backups" / "night.sqlite3"
    done = runner.invoke(cli, ["backup", str(dest)])
    assert done.exit_code == 0, done.output
    assert dest.is_file() and "backup written" in done.output

    restored = empty_database(target)
    use(restored, monkeypatch)
    done = runner.invoke(cli, ["restore", str(dest)])
    assert done.exit_code == 0, done.output
    assert "the log verifies" in done.output
    assert state(restored) == before
    verified = runner.invoke(cli, ["log", "verify"])
    assert verified.exit_code == 0, verified.output
    assert f"{before[2]} facts verified" in verified.output

    # The restored database takes new writes: its ids continue past the copied ones.
    with TestClient(create_app(get_settings())) as client:
        shelter = kyiv_shelter(restored, 5)
        r = client.post("/v1/reports", json={"shelter_id": shelter.id, "kind": "locked",
                                             "device_id": "after-restore"})
        assert r.status_code == 201, r.text
    assert state(restored)[2] > before[2]


def test_restore_refuses_a_database_that_already_holds_facts(
        kyiv_settings: Settings, tmp_path: Path) -> None:
    runner = CliRunner()
    dest = tmp_path / "copy.sqlite3"
    assert runner.invoke(cli, ["backup", str(dest)]).exit_code == 0
    done = runner.invoke(cli, ["restore", str(dest)])  # onto the live database itself
    assert done.exit_code == 1
    assert "already holds facts" in done.output


def test_a_backup_of_a_missing_database_is_refused_with_its_path(tmp_path: Path,
                                                                 monkeypatch) -> None:
    use(f"sqlite:///{tmp_path / 'nowhere.sqlite3'}", monkeypatch)
    done = CliRunner().invoke(cli, ["backup", str(tmp_path / "b.sqlite3")])
    assert done.exit_code == 1 and "no database at" in done.output
    assert not (tmp_path / "b.sqlite3").exists()
