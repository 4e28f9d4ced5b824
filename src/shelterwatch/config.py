"""Settings from the environment (prefix SHELTERWATCH_, the database from DATABASE_URL).

Every setting is a typed field, the small mini-languages too (per-area overrides, channel lists,
geocode maps): they are parsed and checked once, when the process starts, so a typo refuses to
start with the setting's name and what was expected, instead of failing later, at an alert, inside
a transaction that would roll back a door unlock. Nothing parses configuration after start-up.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from shelterwatch.config_syntax import (  # re-exported: callers import them from config
    CHANNEL_NAMES,
    ChannelName,
    ConfigError,
    EscalationOverride,
    OperatorContact,
    _pairs,
    describe,
    normalised_url,
    parse_escalation_overrides,
    parse_geocodes,
    parse_warning_overrides,
)
from shelterwatch.vocabulary import Threat

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
    # A hot standby for reads that may be a second behind: the public log, the statistics and
    # the pack's full build (empty: everything reads the primary). Writes, and any read that
    # must see the caller's own write (a receipt, a case page, a token), always go to
    # DATABASE_URL. A libpq host list is accepted here too.
    replica_url: str = ""
    # Signs one-tap links, issued device ids and webhook bodies, keys private digests; set it in
    # production. Unset, the one `shelterwatch init` generated under ./var/ is used.
    secret_key: str = PLACEHOLDER_SECRET
    secret_key_file: str = SECRET_FILE
    timezone: str = "Europe/Kyiv"
    public_base_url: str = "http://127.0.0.1:8000"

    # How often a process without LISTEN/NOTIFY looks for new facts (DESIGN §6: at least 1/s).
    follow_interval_s: float = 0.25
    # A simulated night only (`shelterwatch simulate`): the clock runs this many times faster
    # than real time from the real instant CLOCK_ANCHOR, the same in the server and the worker.
    clock_speed: float = Field(default=1.0, gt=0, le=1000)
    clock_anchor: datetime | None = None
    max_body_bytes: int = 16_384
    max_header_bytes: int = 8_192  # all request headers together; more is a 431

    # Logs (`shelterwatch.logs`): one JSON object a line for a collector, or text for a person.
    # Requests are logged when "notable" (a write, an error, or slower than log_slow_ms): the
    # hot reads are counted in /metrics instead, for a line each would cost a tenth of the CPU.
    log_format: Literal["json", "text"] = "json"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_requests: Literal["all", "notable", "none"] = "notable"
    log_slow_ms: Annotated[float, Field(gt=0)] = 500.0

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
    cap_geocodes: Annotated[dict[tuple[str, str], str], NoDecode] = Field(default_factory=dict)

    # Warning time in seconds per threat (DESIGN §2); per-area overrides as "area:threat=s,…".
    warning_ballistic_s: int = 120
    warning_cruise_s: int = 600
    warning_drones_s: int = 900
    warning_aviation_s: int = 300
    warning_artillery_s: int = 0
    warning_unknown_s: int = 120
    warning_overrides: Annotated[dict[str, dict[Threat, Annotated[int, Field(ge=0)]]],
                                 NoDecode] = Field(default_factory=dict)

    # Walking (DESIGN §4, issue 5)
    walking_speed_mps: float = 1.3
    reduced_mobility_speed_mps: float = 0.8
    detour_factor: float = 1.3
    routing_url: str = ""
    routing_timeout_s: float = 0.3
    routing_engine: Literal["osrm", "valhalla"] = "osrm"
    # How many nearest shelters (by distance) the ranking chooses from.
    nearest_pool: int = 12
    # Empty: no tile server. A public one (tile.openstreetmap.org) forbids heavy use, and a
    # page that must work during an alert cannot lean on a third party (issue 11).
    tiles_url: str = ""
    # A street map the app serves itself: the folder `shelterwatch basemap build` wrote (empty:
    # the bundled district outline only).
    basemap_dir: str = ""

    # Coverage gaps (issue 14): the population and street network the live figures use (empty =
    # the bundled district totals, straight line × detour), and the longest walk considered.
    coverage_population: str = ""
    coverage_network: str = ""
    coverage_horizon_s: float = 1800.0
    coverage_max_cells: int = 60_000  # live figures only; Kyiv is ~8,300, an oblast ~300,000
    # Where to add or fix: how many sites to rank, how far back a door counts as locked-prone,
    # and a CSV of lat,lon[,name] points a planner proposes (empty: none).
    coverage_sites_top: int = 10
    coverage_locked_window_days: float = 30.0
    coverage_candidates: str = ""
    # Which areas the API keeps live coverage for, each built when the process starts (and again
    # when the registry changes), never on a request: "*" = every area with a shelter in it or
    # under it, or a comma list of area ids; empty = none.
    coverage_areas: str = "*"

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
    # The surge detector (sources/): a source is shown to the desk when its residents' reports
    # in the last hour reach this many different shelters, or this many came in five minutes.
    surge_shelters_per_hour: int = 3
    surge_reports_per_5_min: int = 30
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
    notify_channels: Annotated[tuple[ChannelName, ...], NoDecode] = CHANNEL_NAMES
    notify_timeout_s: float = 10.0
    outbox_max_attempts: int = 6
    outbox_backoff_s: float = 5.0  # doubles each attempt
    outbox_lease_s: float = 60.0  # a claim older than this is taken over by another worker
    # Sends side by side, one round of OUTBOX_ROUND settled together (outbox.batch); 1 keeps
    # one message per transaction, the strictest crash behaviour. 16 by default: an alert's
    # ten thousand check-ins one at a time take minutes (bench/alert_surge.py).
    outbox_senders: int = Field(default=16, ge=1, le=256)
    outbox_round: int = Field(default=200, ge=1, le=5000)
    # The door controllers' lane: unlocks never wait behind a round of webhooks.
    outbox_door_senders: int = Field(default=32, ge=1, le=256)

    # Residents' channels (issue 16): the Telegram bot, inbound SMS, web push, and the limits
    # their providers publish (Telegram: ~30 messages/s per bot, ~1/s per chat with short bursts).
    telegram_webhook_secret: str = ""  # X-Telegram-Bot-Api-Secret-Token; empty = webhook refused
    telegram_rate_per_s: float = 30.0
    telegram_chat_rate_per_s: float = 1.0
    telegram_chat_burst: int = 3
    telegram_bot_username: str = ""  # for the door sign's QR code (t.me/<name>?start=s<id>)
    sms_inbound_secret: str = ""  # the gateway's X-Gateway-Secret; empty = inbound refused
    sms_rate_per_s: float = 10.0  # the gateway's contracted throughput
    sms_inbound_number: str = ""  # the number residents text, printed on door signs
    push_vapid_private_key: str = ""  # PEM, or the raw key in base64url; empty = push off
    push_vapid_subject: str = "mailto:civil-protection@example.invalid"
    push_rate_per_s: float = 200.0
    push_subscription_days: int = 30  # a subscription not renewed by the page expires
    push_shown_window_s: int = 3600  # shelters shown this recently get "reported locked" news
    # Hosts of the push services browsers use; a ".suffix" allows its subdomains.
    push_endpoint_hosts: Annotated[tuple[str, ...], NoDecode] = (
        "fcm.googleapis.com", "updates.push.services.mozilla.com", ".notify.windows.com",
        ".push.apple.com")

    # Escalation ladder (DESIGN §4); per-area overrides as "31:operator_after_s=120;…".
    escalation_keyholder_after_s: float = 0.0
    escalation_patrol_after_s: float = 0.0
    escalation_operator_after_s: float = 300.0
    escalation_check_in_grace_s: float = 120.0
    escalation_overrides: Annotated[dict[str, EscalationOverride], NoDecode] = Field(
        default_factory=dict)
    # The operator desk: "webhook=https://…,email=desk@…".
    operator_contacts: Annotated[tuple[OperatorContact, ...], NoDecode] = ()
    worker_tick_s: float = 0.5
    door_stale_after_s: float = 300.0  # a controller silent this long is flagged
    patrol_speed_mps: float = 8.3
    # A check round's stop is worth making only if the unit gets there within this (issue 11).
    round_budget_s: float = 900.0
    # How often the worker lets time pass over statuses (reports fade) and sweeps ended alerts.
    status_refresh_s: float = 30.0
    # The offline pack as static files: the worker publishes here, the API (or nginx) serves
    # them and no request builds the pack. Empty: the API builds it itself when asked.
    pack_dir: str = ""
    # Readiness audits (issue 12): the published category rule a city judges by, the deadlines
    # of deficiencies by severity, the re-audit interval, and where photos are kept — a
    # directory by default, an S3-compatible bucket when `photos_s3_url` is set.
    readiness_rule: Literal["worst-of/1", "worst-of-strict/1"] = "worst-of/1"
    deficiency_days_critical: int = Field(default=1, ge=1)
    deficiency_days_major: int = Field(default=30, ge=1)
    deficiency_days_minor: int = Field(default=90, ge=1)
    reaudit_days: int = Field(default=91, ge=1)  # quarterly
    gps_accuracy_flag_m: float = 30.0
    photo_dir: str = "var/photos"
    photo_max_bytes: int = 500_000
    photos_s3_url: str = ""  # e.g. http://127.0.0.1:9000 (path-style addressing)
    photos_s3_bucket: str = "shelterwatch-photos"
    photos_s3_region: str = "us-east-1"
    photos_s3_key_id: str = ""
    photos_s3_secret: str = ""

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
    # The verifiable log (issue 13): the Ed25519 key that signs tree heads, kept under ./var/;
    # a head is signed once this many facts are new, or this many seconds after the last one.
    log_key_path: str = str(Path("var") / "log-signing-key.pem")
    log_head_every_facts: int = 500
    log_head_every_s: float = 30.0
    # Where each new signed head is pushed: "https://…" (POSTed JSON) or "dir:/path", comma list.
    log_witnesses: Annotated[tuple[str, ...], NoDecode] = ()
    # Accountability figures (issue 13): a locked-door case is on time if closed within this;
    # shelters in these oblasts (area ids, comma list) are shown on /stats only as the oblast.
    stats_case_target_s: float = 600.0
    stats_hidden_oblasts: Annotated[tuple[str, ...], NoDecode] = ()

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

    @field_validator("warning_overrides", mode="before")
    @classmethod
    def _warning_overrides(cls, value: Any) -> Any:
        return parse_warning_overrides(value) if isinstance(value, str) else value

    @field_validator("escalation_overrides", mode="before")
    @classmethod
    def _escalation_overrides(cls, value: Any) -> Any:
        return parse_escalation_overrides(value) if isinstance(value, str) else value

    @field_validator("cap_geocodes", mode="before")
    @classmethod
    def _cap_geocodes(cls, value: Any) -> Any:
        return parse_geocodes(value) if isinstance(value, str) else value

    @field_validator("notify_channels", mode="before")
    @classmethod
    def _channel_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(n.strip() for n in value.split(",") if n.strip())
        return value

    @field_validator("stats_hidden_oblasts", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(n.strip() for n in value.split(",") if n.strip())
        return value

    @field_validator("push_endpoint_hosts", mode="before")
    @classmethod
    def _hosts(cls, value: Any) -> Any:
        return tuple(h.lower() for h in cls._comma_list(value))

    @field_validator("log_witnesses", mode="before")
    @classmethod
    def _witnesses(cls, value: Any) -> Any:
        found = cls._comma_list(value)
        for w in found:
            if not (w.startswith(("http://", "https://")) or w.startswith("dir:") and len(w) > 4):
                raise ValueError(f"log witness {w!r} is neither http(s)://… nor dir:/path")
        return found

    @field_validator("operator_contacts", mode="before")
    @classmethod
    def _operator_contacts(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple({"channel": c, "address": a}
                         for c, a in _pairs(value, "=", "channel=address"))
        return value

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
