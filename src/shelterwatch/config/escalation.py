"""The escalation ladder and the worker that climbs it: delays, the operator desk, patrols,
door controllers, and what the worker publishes (statuses over time, the offline pack)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode

from shelterwatch.config_syntax import (
    EscalationOverride,
    OperatorContact,
    _pairs,
    parse_escalation_overrides,
)


class EscalationSettings(BaseSettings):
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

    @field_validator("escalation_overrides", mode="before")
    @classmethod
    def _escalation_overrides(cls, value: Any) -> Any:
        return parse_escalation_overrides(value) if isinstance(value, str) else value

    @field_validator("operator_contacts", mode="before")
    @classmethod
    def _operator_contacts(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple({"channel": c, "address": a}
                         for c, a in _pairs(value, "=", "channel=address"))
        return value
