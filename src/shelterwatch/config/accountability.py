"""Accountability (issue 13): the verifiable log's signed heads and witnesses, and the public
figures — the on-time target and the oblasts whose shelters the public sees only as a whole."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import field_validator
from pydantic_settings import BaseSettings, NoDecode

from shelterwatch.config_syntax import comma_list


class AccountabilitySettings(BaseSettings):
    # The verifiable log: the Ed25519 key that signs tree heads, kept under ./var/; a head is
    # signed once this many facts are new, or this many seconds after the last one.
    log_key_path: str = str(Path("var") / "log-signing-key.pem")
    log_head_every_facts: int = 500
    log_head_every_s: float = 30.0
    # Where each new signed head is pushed: "https://…" (POSTed JSON) or "dir:/path", comma list.
    log_witnesses: Annotated[tuple[str, ...], NoDecode] = ()
    # A locked-door case is on time if closed within this; shelters in these oblasts (area ids,
    # comma list) are shown on /stats only as the oblast.
    stats_case_target_s: float = 600.0
    stats_hidden_oblasts: Annotated[tuple[str, ...], NoDecode] = ()

    @field_validator("stats_hidden_oblasts", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        return comma_list(value)

    @field_validator("log_witnesses", mode="before")
    @classmethod
    def _witnesses(cls, value: Any) -> Any:
        found = comma_list(value)
        for w in found:
            if not (w.startswith(("http://", "https://")) or w.startswith("dir:") and len(w) > 4):
                raise ValueError(f"log witness {w!r} is neither http(s)://… nor dir:/path")
        return found
