"""Settings from the environment (prefix SHELTERWATCH_, the database from DATABASE_URL).

Every setting is a typed field, the small mini-languages too (per-area overrides, channel lists,
geocode maps): they are parsed and checked once, when the process starts, so a typo refuses to
start with the setting's name and what was expected, instead of failing later, at an alert, inside
a transaction that would roll back a door unlock. Nothing parses configuration after start-up.

The fields are grouped by what they govern, one module each (database, server, clock, alerts,
walking, coverage, reports, outbox, escalation, audits, accountability); `Settings` is all of
them, and the one thing the rest of the code imports.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import ValidationError, model_validator
from pydantic_settings import SettingsConfigDict

from shelterwatch.config.accountability import AccountabilitySettings
from shelterwatch.config.alerts import AlertSettings
from shelterwatch.config.audits import AuditSettings
from shelterwatch.config.clock import ClockSettings
from shelterwatch.config.coverage import CoverageSettings
from shelterwatch.config.database import DatabaseSettings, default_database_url
from shelterwatch.config.escalation import EscalationSettings
from shelterwatch.config.outbox import OutboxSettings
from shelterwatch.config.reports import ReportSettings
from shelterwatch.config.server import (
    PLACEHOLDER_SECRET,
    PLACEHOLDERS,
    SECRET_FILE,
    ServerSettings,
    ensure_secret_file,
    is_loopback,
)
from shelterwatch.config.walking import WalkingSettings
from shelterwatch.config_syntax import (  # re-exported: callers import them from config
    CHANNEL_NAMES,
    ChannelName,
    ConfigError,
    EscalationOverride,
    OperatorContact,
    describe,
)

__all__ = [
    "CHANNEL_NAMES", "PLACEHOLDERS", "PLACEHOLDER_SECRET", "SECRET_FILE", "ChannelName",
    "ConfigError", "EscalationOverride", "OperatorContact", "Settings", "default_database_url",
    "ensure_secret_file", "get_settings", "is_loopback", "load",
]


class Settings(
    AccountabilitySettings,
    AuditSettings,
    EscalationSettings,
    OutboxSettings,
    ReportSettings,
    CoverageSettings,
    WalkingSettings,
    AlertSettings,
    ClockSettings,
    ServerSettings,
    DatabaseSettings,
):
    model_config = SettingsConfigDict(env_prefix="SHELTERWATCH_", extra="ignore")

    @model_validator(mode="after")
    def _clock_only_in_development(self) -> Settings:
        """A fast clock escalates real doors early: refuse it in a deployment."""
        if self.clock_speed != 1 and self.clock_anchor is None:
            raise ValueError("SHELTERWATCH_CLOCK_SPEED needs SHELTERWATCH_CLOCK_ANCHOR, the real "
                             "instant every process's clock starts running faster from")
        if self.clock_speed != 1 and self.environment != "development":
            raise ValueError("SHELTERWATCH_CLOCK_SPEED is for simulations: refused outside "
                             "development")
        return self


def load(**values: Any) -> Settings:
    """Settings from the environment (and `values`), or ConfigError naming the bad variable."""
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise ConfigError(describe(exc)) from None


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests clear the cache to override them."""
    return load()
