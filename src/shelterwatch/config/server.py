"""The deployment and its HTTP face: the environment, the secret, request limits, the logs,
and whose X-Forwarded-For is believed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings

PLACEHOLDER_SECRET = "change-me"
# Values that are not secrets: anyone who has read the code or a tutorial knows them.
PLACEHOLDERS = frozenset({PLACEHOLDER_SECRET, "", "changeme", "secret", "dev", "development"})
SECRET_FILE = "var/secret_key"  # written by `shelterwatch init` when no secret is configured


class ServerSettings(BaseSettings):
    environment: str = "development"
    # Signs one-tap links, issued device ids and webhook bodies, keys private digests; set it in
    # production. Unset, the one `shelterwatch init` generated under ./var/ is used.
    secret_key: str = PLACEHOLDER_SECRET
    secret_key_file: str = SECRET_FILE
    timezone: str = "Europe/Kyiv"
    public_base_url: str = "http://127.0.0.1:8000"
    max_body_bytes: int = 16_384
    max_header_bytes: int = 8_192  # all request headers together; more is a 431

    # Logs (`shelterwatch.logs`): one JSON object a line for a collector, or text for a person.
    # Requests are logged when "notable" (a write, an error, or slower than log_slow_ms): the
    # hot reads are counted in /metrics instead, for a line each would cost a tenth of the CPU.
    log_format: Literal["json", "text"] = "json"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_requests: Literal["all", "notable", "none"] = "notable"
    log_slow_ms: Annotated[float, Field(gt=0)] = 500.0

    # Peers whose X-Forwarded-For is believed: "10.0.0.1, 10.1.0.0/16"; empty = nobody's.
    trusted_proxies: str = ""
    # Open /v1/stream connections one address may hold in one process.
    stream_connections_per_address: int = 100
    # When the event loop runs this late, look-ups from phones holding the offline pack get a
    # 503 and rank the pack, so residents' reports are not kept waiting (`web.saturation`);
    # 0: never.
    lookups_give_way_after_ms: Annotated[float, Field(ge=0)] = 50.0

    @model_validator(mode="after")
    def _generated_secret(self) -> ServerSettings:
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


def ensure_secret_file(settings: ServerSettings) -> bool:
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
