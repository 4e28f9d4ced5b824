"""Where the data lives: the primary, the hot standby for reads that may lag, and how often a
process without LISTEN/NOTIFY looks for new facts."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings

from shelterwatch.config_syntax import normalised_url


def default_database_url() -> str:
    """A SQLite file under ./var/, the embedded default for one city on one machine."""
    return f"sqlite:///{Path('var').absolute() / 'shelterwatch.sqlite3'}"


class DatabaseSettings(BaseSettings):
    database_url: str = Field(
        default_factory=default_database_url,
        validation_alias=AliasChoices("DATABASE_URL", "SHELTERWATCH_DATABASE_URL"),
    )
    # A hot standby for reads that may be a second behind: the public log, the statistics and
    # the pack's full build (empty: everything reads the primary). Writes, and any read that
    # must see the caller's own write (a receipt, a case page, a token), always go to
    # DATABASE_URL. A libpq host list is accepted here too.
    replica_url: str = ""
    # How often a process without LISTEN/NOTIFY looks for new facts (DESIGN §6: at least 1/s).
    follow_interval_s: float = 0.25

    @field_validator("database_url", "replica_url", mode="after")
    @classmethod
    def _host_list(cls, value: str) -> str:
        """A libpq host list (`postgresql://u@db1:5432,db2:5432/sw`) in the form SQLAlchemy
        parses, so every part of the code reads one kind of URL."""
        return normalised_url(value)

    @property
    def stale_read_url(self) -> str:
        """Where reads that may lag the primary by a second go: the replica when there is one."""
        return self.replica_url or self.database_url
