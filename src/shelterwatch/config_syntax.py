"""The small languages of setting values (per-area overrides, geocode maps) and the one-line
message a bad value gets: parsed once at start, so a typo never reaches an alert."""

from __future__ import annotations

from typing import Any, Literal, get_args
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, ValidationError

# The notification channels a deployment may switch on; notify.registry.CHANNELS holds their
# classes under the same names (a test keeps the two lists equal).
ChannelName = Literal["webhook", "email", "sms", "telegram", "door", "push"]
CHANNEL_NAMES: tuple[ChannelName, ...] = get_args(ChannelName)


class ConfigError(ValueError):
    """The environment names a setting wrongly; the message is one line naming the variable."""


class EscalationOverride(BaseModel):
    """One area's changes to the escalation ladder (rules.escalation.EscalationPolicy fields)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    keyholder_after_s: NonNegativeFloat | None = None
    patrol_after_s: NonNegativeFloat | None = None
    operator_after_s: NonNegativeFloat | None = None
    owner_after_s: NonNegativeFloat | None = None
    check_in_grace_s: NonNegativeFloat | None = None

    def changes(self) -> dict[str, float]:
        """Only the delays this area sets, for dataclasses.replace on the base policy."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


class OperatorContact(BaseModel):
    """One way to reach the operator desk: a channel and its address."""

    model_config = ConfigDict(frozen=True)

    channel: ChannelName
    address: str = Field(min_length=1)


def comma_list(value: Any) -> Any:
    """ "a, b," → ("a", "b"); a value that is not text is left to the field's type."""
    if isinstance(value, str):
        return tuple(n.strip() for n in value.split(",") if n.strip())
    return value


def _pairs(text: str, sep: str, what: str) -> list[tuple[str, str]]:
    """Split "a=b,c=d" into stripped pairs at `sep`; a pair lacking either side is refused."""
    out = []
    for raw in filter(None, (e.strip() for e in text.split(","))):
        left, found, right = raw.partition(sep)
        if not found or not left.strip() or not right.strip():
            raise ValueError(f"{raw!r} is not {what}")
        out.append((left.strip(), right.strip()))
    return out


def parse_warning_overrides(text: str) -> dict[str, dict[str, str]]:
    """ "31:ballistic=90,14:drones=600" → {"31": {"ballistic": "90"}, …}; typed by the field."""
    out: dict[str, dict[str, str]] = {}
    for where, seconds in _pairs(text, "=", "area:threat=seconds"):
        area_id, colon, threat = where.partition(":")
        if not colon or not area_id.strip() or not threat.strip():
            raise ValueError(f"{where}={seconds!r} is not area:threat=seconds")
        out.setdefault(area_id.strip(), {})[threat.strip()] = seconds
    return out


def parse_escalation_overrides(text: str) -> dict[str, dict[str, str]]:
    """ "31:operator_after_s=120,patrol_after_s=0;14:…" → {"31": {"operator_after_s": "120", …}}."""
    out: dict[str, dict[str, str]] = {}
    for chunk in filter(None, (c.strip() for c in text.split(";"))):
        area_id, colon, pairs = chunk.partition(":")
        if not colon or not area_id.strip():
            raise ValueError(f"{chunk!r} lacks 'area:'")
        values = out.setdefault(area_id.strip(), {})
        values.update(_pairs(pairs, "=", "name=seconds"))
    return out


def parse_geocodes(text: str) -> dict[tuple[str, str], str]:
    """ "SAME:006109=31,…" → {("same", "006109"): "31"} (CAP valueName matched without case)."""
    out: dict[tuple[str, str], str] = {}
    for entry in filter(None, (e.strip() for e in text.split(","))):
        code, eq, area = entry.rpartition("=")
        name, colon, value = code.partition(":")
        if not eq or not colon or not name.strip() or not value.strip() or not area.strip():
            raise ValueError(f"{entry!r} is not valueName:value=area_id")
        out[(name.strip().casefold(), value.strip())] = area.strip()
    return out


def _env_name(field: str) -> str:
    return "DATABASE_URL" if field == "database_url" else f"SHELTERWATCH_{field.upper()}"


def describe(exc: ValidationError) -> str:
    """One line naming each bad variable and what was expected (for `error:` at start-up)."""
    parts = []
    for err in exc.errors(include_url=False):
        loc = [str(x) for x in err["loc"] if x != "[key]"]
        name = _env_name(loc[0]) if loc else "settings"
        where = f" (at {'.'.join(loc[1:])})" if len(loc) > 1 else ""
        message = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = f"unknown setting {loc[-1]!r}"
            message += f" (area {loc[1]})" if len(loc) > 2 else where
            where = ""
            if loc[0] == "escalation_overrides":
                message += f"; expected one of {', '.join(EscalationOverride.model_fields)}"
        parts.append(f"{name}: {message}{where}")
    return "; ".join(parts)


def normalised_url(url: str) -> str:
    """The URL with a libpq host list (`h1:p1,h2:p2` in the authority) moved into `host=`
    parameters, the form SQLAlchemy parses; any other URL is returned unchanged."""
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgresql") or "," not in parts.netloc:
        return url
    user, at, hosts = parts.netloc.rpartition("@")
    query = [("host", h.strip()) for h in hosts.split(",") if h.strip()]
    query += parse_qsl(parts.query)
    return urlunsplit((parts.scheme, f"{user}{at}", parts.path, urlencode(query, safe=":"), ""))
