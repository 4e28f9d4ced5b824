"""`shelterwatch log verify` catches edits, deletions and reordering in the stored log,
on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from shelterwatch import db
from shelterwatch.cli.main import app
from shelterwatch.clock import utcnow
from shelterwatch.log import service as log


@pytest.fixture
def backend_url(both_url: str) -> str:
    """Five facts (each with a private part) on each backend."""
    with db.transaction(both_url) as session:
        for i in range(5):
            log.append(session, kind="test.fact", actor="system", payload={"n": i}, now=utcnow(),
                       private={"device": f"d{i}"})
    return both_url


def verify() -> tuple[int, str]:
    result = CliRunner().invoke(app, ["log", "verify"])
    return result.exit_code, result.output


def tamper(url: str, sql: str, **params: object) -> None:
    with db.transaction(url) as session:
        session.execute(text(sql), params)


def test_intact_log_verifies(backend_url: str) -> None:
    code, out = verify()
    assert code == 0, out
    assert "intact" in out


def last_area_seq(url: str) -> int:
    with db.reading(url) as session:
        return int(session.execute(text("SELECT max(seq) FROM facts WHERE kind = 'area.created'"))
                   .scalar_one())


def test_edited_payload_is_named(backend_url: str) -> None:
    n = last_area_seq(backend_url) + 3
    tamper(backend_url, f"UPDATE facts SET payload = :p WHERE seq = {n}", p='{"n":99}')
    code, out = verify()
    assert code == 1
    assert f"seq {n}" in out and "altered" in out


def test_edited_private_part_is_named(backend_url: str) -> None:
    n = last_area_seq(backend_url) + 2
    tamper(backend_url, f"UPDATE facts SET private = :p WHERE seq = {n}", p='{"device":"x"}')
    code, out = verify()
    assert code == 1 and f"seq {n}" in out


def test_deleted_fact_is_named(backend_url: str) -> None:
    n = last_area_seq(backend_url) + 2
    tamper(backend_url, f"DELETE FROM facts WHERE seq = {n}")
    code, out = verify()
    assert code == 1
    assert f"seq {n} is missing" in out


def test_deleted_last_fact_is_named(backend_url: str) -> None:
    n = last_area_seq(backend_url) + 5
    tamper(backend_url, f"DELETE FROM facts WHERE seq = {n}")
    code, out = verify()
    assert code == 1 and f"seq {n} is missing" in out


def test_reordered_facts_are_named(backend_url: str) -> None:
    a, b = last_area_seq(backend_url) + 2, last_area_seq(backend_url) + 4
    tamper(backend_url, f"UPDATE facts SET seq = -1 WHERE seq = {a}")
    tamper(backend_url, f"UPDATE facts SET seq = {a} WHERE seq = {b}")
    tamper(backend_url, f"UPDATE facts SET seq = {b} WHERE seq = -1")
    code, out = verify()
    assert code == 1 and f"seq {a}" in out
