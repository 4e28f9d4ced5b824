"""Where alerts come from (the feeds, the push, CAP geocodes) and how long each threat gives."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode

from shelterwatch.config_syntax import parse_geocodes, parse_warning_overrides
from shelterwatch.vocabulary import Threat


class AlertSettings(BaseSettings):
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

    @field_validator("warning_overrides", mode="before")
    @classmethod
    def _warning_overrides(cls, value: Any) -> Any:
        return parse_warning_overrides(value) if isinstance(value, str) else value

    @field_validator("cap_geocodes", mode="before")
    @classmethod
    def _cap_geocodes(cls, value: Any) -> Any:
        return parse_geocodes(value) if isinstance(value, str) else value
