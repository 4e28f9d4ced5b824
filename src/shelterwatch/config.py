"""Settings from the environment (prefix SHELTERWATCH_, the database from DATABASE_URL)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "change-me"
# Values that are not secrets: anyone who has read the code or a tutorial knows them.
PLACEHOLDERS = frozenset({PLACEHOLDER_SECRET, "", "changeme", "secret", "dev", "development"})
SECRET_FILE = "var/secret_key"  # written by `shelterwatch init` when no secret is configured


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
    # Signs one-tap links, issued device ids and webhook bodies, keys private digests; set it in
    # production. Unset, the one `shelterwatch init` generated under ./var/ is used.
    secret_key: str = PLACEHOLDER_SECRET
    secret_key_file: str = SECRET_FILE
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
    tiles_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"

    # Anonymous write limits, shared by every process on the database
    reports_per_device_per_hour: int = 20
    reports_per_address_per_minute: int = 600
    # One person is at one door: how many different shelters one source may report about in an
    # hour — a network without an issued device id, or one issued device id.
    shelters_per_network_per_hour: int = 5
    shelters_per_device_per_hour: int = 3
    # … and all issued ids behind one network together (a NAT's many phones, or one minting ids).
    shelters_per_network_issued_per_hour: int = 5
    # Issued device ids: proof-of-work bits a phone pays once, and ids per network an hour.
    device_pow_bits: int = 16
    devices_per_address_per_hour: int = 30
    # Peers whose X-Forwarded-For is believed: "10.0.0.1, 10.1.0.0/16"; empty = nobody's.
    trusted_proxies: str = ""
    # Open /v1/stream connections one address may hold in one process.
    stream_connections_per_address: int = 100
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
    # How often the worker lets time pass over statuses (reports fade) and sweeps ended alerts.
    status_refresh_s: float = 30.0

    @model_validator(mode="after")
    def _generated_secret(self) -> Settings:
        """Without a configured secret, use the one generated on this machine, if any."""
        if self.secret_key == PLACEHOLDER_SECRET:
            path = Path(self.secret_key_file)
            if path.is_file():
                generated = path.read_text(encoding="ascii").strip()
                if generated:
                    self.secret_key = generated
        return self

    @property
    def secret_is_placeholder(self) -> bool:
        return self.secret_key in PLACEHOLDERS or len(self.secret_key) < 16

    def check_secrets(self) -> None:
        """Refuse to run a production deployment on the placeholder secret."""
        if self.environment != "development" and self.secret_is_placeholder:
            raise ValueError("SHELTERWATCH_SECRET_KEY must be set outside development "
                             "(at least 16 characters, not a placeholder)")

    def check_secrets_for_host(self, host: str) -> None:
        """Refuse to serve beyond this machine on a secret anyone can read."""
        if self.secret_is_placeholder and not is_loopback(host):
            raise ValueError(
                f"refusing to serve on {host} with a placeholder secret: set "
                f"SHELTERWATCH_SECRET_KEY, or run `shelterwatch init` to generate "
                f"{self.secret_key_file}")


def is_loopback(host: str) -> bool:
    """Whether `host` is reachable only from this machine."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def ensure_secret_file(settings: Settings) -> bool:
    """Generate a random secret under ./var/ (mode 0600) unless one is configured or exists.

    Returns whether one was written. Every process started here (server, worker, CLI) reads it.
    """
    import os
    import secrets

    if not settings.secret_is_placeholder:
        return False
    path = Path(settings.secret_key_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secrets.token_urlsafe(48) + "\n")
    return True


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests clear the cache to override them."""
    return Settings()
