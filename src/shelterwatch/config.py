"""Settings from the environment (prefix SHELTERWATCH_, the database from DATABASE_URL)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "change-me"


def default_database_url() -> str:
    """A SQLite file under ./var/, the embedded default for one city on one machine."""
    return f"sqlite:///{Path('var').absolute() / 'shelterwatch.sqlite3'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHELTERWATCH_", extra="ignore")

    environment: str = "development"
    database_url: str = Field(
        default_factory=default_database_url,
        validation_alias=AliasChoices("DATABASE_URL", "SHELTERWATCH_DATABASE_URL"),
    )
    # Signs one-tap links and webhook bodies; must be set outside development.
    secret_key: str = PLACEHOLDER_SECRET
    timezone: str = "Europe/Kyiv"
    public_base_url: str = "http://127.0.0.1:8000"

    # How often a process without LISTEN/NOTIFY looks for new facts (DESIGN §6: at least 1/s).
    follow_interval_s: float = 0.25
    max_body_bytes: int = 16_384

    # Alert feeds
    alerts_in_ua_url: str = "https://api.alerts.in.ua"
    alerts_in_ua_token: str = ""
    ukrainealarm_url: str = "https://api.ukrainealarm.com"
    ukrainealarm_key: str = ""
    poll_interval_s: float = 15.0
    feed_stale_after_s: float = 120.0
    # Shared secret the ukrainealarm push must send (X-Webhook-Secret); empty = push refused.
    ukrainealarm_webhook_secret: str = ""
    # CAP geocodes naming our areas: "valueName:value=area_id,…" (e.g. "SAME:006109=31").
    cap_geocodes: str = ""

    # Warning time in seconds per threat (DESIGN §2); per-area overrides as "area:threat=s,…".
    warning_ballistic_s: int = 120
    warning_cruise_s: int = 600
    warning_drones_s: int = 900
    warning_aviation_s: int = 300
    warning_artillery_s: int = 0
    warning_unknown_s: int = 120
    warning_overrides: str = ""

    # Walking (DESIGN §4, issue 5)
    walking_speed_mps: float = 1.3
    reduced_mobility_speed_mps: float = 0.8
    detour_factor: float = 1.3
    routing_url: str = ""
    routing_timeout_s: float = 0.3
    routing_engine: str = "osrm"  # or "valhalla"
    # How many nearest shelters (by distance) the ranking chooses from.
    nearest_pool: int = 12
    # Empty: no tile server. A public one (tile.openstreetmap.org) forbids heavy use, and a
    # page that must work during an alert cannot lean on a third party (issue 11).
    tiles_url: str = ""

    # Anonymous write limits
    reports_per_device_per_hour: int = 20
    reports_per_address_per_minute: int = 600
    # Tracking ids on receipts: the city's letters, e.g. KV-7F3K-2Q (issue 4).
    tracking_prefix: str = "KV"

    # Notifications and door controllers
    mqtt_url: str = ""
    smtp_url: str = ""
    smtp_from: str = "shelterwatch@example.invalid"
    sms_gateway_url: str = ""
    telegram_api_url: str = "https://api.telegram.org"
    telegram_bot_token: str = ""
    sms_gateway_token: str = ""
    webhook_secret: str = ""  # signs webhook bodies; defaults to secret_key
    notify_channels: str = "webhook,email,sms,telegram,door"
    notify_timeout_s: float = 10.0
    outbox_max_attempts: int = 6
    outbox_backoff_s: float = 5.0  # doubles each attempt
    outbox_lease_s: float = 60.0  # a claim older than this is taken over by another worker

    # Escalation ladder (DESIGN §4); per-area overrides as "31:operator_after_s=120;…".
    escalation_keyholder_after_s: float = 0.0
    escalation_patrol_after_s: float = 0.0
    escalation_operator_after_s: float = 300.0
    escalation_check_in_grace_s: float = 120.0
    escalation_overrides: str = ""
    operator_contacts: str = ""  # the operator desk: "webhook=https://…,email=desk@…"
    worker_tick_s: float = 0.5
    door_stale_after_s: float = 300.0  # a controller silent this long is flagged
    patrol_speed_mps: float = 8.3
    # A check round's stop is worth making only if the unit gets there within this (issue 11).
    round_budget_s: float = 900.0
    # How often the worker lets time pass over statuses (reports fade) and sweeps ended alerts.
    status_refresh_s: float = 30.0

    def check_secrets(self) -> None:
        """Refuse to run a production deployment on the placeholder secret."""
        if self.environment != "development" and self.secret_key == PLACEHOLDER_SECRET:
            raise ValueError("SHELTERWATCH_SECRET_KEY must be set outside development")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests clear the cache to override them."""
    return Settings()
