"""Shelter records read from a registry file, and the reasons a row is rejected."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from shelterwatch.vocabulary import Facility, Obligation, ShelterKind


@dataclass(frozen=True, slots=True)
class Rejection:
    """One row that was not imported: where it is in the file and why."""

    location: str  # "line 12" or "feature 3" or "node 123456"
    reason: str

    def __str__(self) -> str:
        return f"{self.location}: {self.reason}"


@dataclass(slots=True)  # not frozen: a frozen init sets each field through object.__setattr__,
class ShelterRecord:     # twice the cost, 65,000 times in a national registry; none is mutated
    location: str
    source_id: str
    name: str
    address: str
    lat: float
    lon: float
    kind: ShelterKind
    obligation: Obligation = Obligation.ALWAYS
    capacity: int | None = None
    step_free: bool | None = None
    facilities: tuple[Facility, ...] = ()
    owner: str | None = None
    area_hint: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


class RowError(ValueError):
    """A value in a row cannot be used; the message is the reason shown to the user."""


def coordinate(raw: object, name: str, low: float, high: float) -> float:
    """A coordinate in range, or a precise reason why not."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise RowError(f"missing coordinate {name!r}")
    try:
        value = float(raw)  # type: ignore[arg-type]  # surrounding spaces are allowed
    except (TypeError, ValueError):
        try:  # a decimal comma, as a spreadsheet in Ukrainian writes it
            value = float(str(raw).strip().replace(",", "."))
        except (TypeError, ValueError):
            raise RowError(f"unreadable coordinate {name!r}: {raw!r}") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise RowError(f"coordinate {name!r} out of range [{low:g}, {high:g}]: {raw!r}")
    return value


def capacity(raw: object) -> int | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        value = int(str(raw).strip()) if not isinstance(raw, int) else raw
    except ValueError:
        raise RowError(f"unreadable capacity: {raw!r}") from None
    if value < 0 or value > 1_000_000:
        raise RowError(f"capacity out of range: {raw!r}")
    return value


TRUE_WORDS = {"true", "yes", "1", "так", "в наявності", "є", "y"}
FALSE_WORDS = {"false", "no", "0", "ні", "відсутній", "немає", "n"}


def yes_no(raw: object, name: str) -> bool | None:
    if raw is None or isinstance(raw, bool):
        return raw
    text = str(raw).strip().casefold()
    if not text:
        return None
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise RowError(f"unreadable {name}: {raw!r}")


def shelter_kind(raw: object) -> ShelterKind:
    try:
        return ShelterKind(str(raw).strip())
    except ValueError:
        allowed = ", ".join(k.value for k in ShelterKind)
        raise RowError(f"unknown kind {raw!r} (one of {allowed})") from None


def obligation(raw: object) -> Obligation:
    if raw is None or not str(raw).strip():
        return Obligation.ALWAYS
    try:
        return Obligation(str(raw).strip())
    except ValueError:
        raise RowError(f"unknown obligation {raw!r} (24_7 or on_alert)") from None


def facilities(raw: object) -> tuple[Facility, ...]:
    if raw is None or raw == "":
        return ()
    items = raw if isinstance(raw, list) else str(raw).replace(";", ",").split(",")
    out: list[Facility] = []
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        try:
            out.append(Facility(text))
        except ValueError:
            raise RowError(f"unknown facility {text!r}") from None
    return tuple(dict.fromkeys(out))
