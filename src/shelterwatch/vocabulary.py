"""The domain's words (DESIGN §2) as enums, so a typo is an error and not a silent new state."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    RESIDENT = "resident"
    KEYHOLDER = "keyholder"
    PATROL = "patrol"
    OPERATOR = "operator"
    AUDITOR = "auditor"
    DOOR = "door"  # a door controller speaking for itself


class AreaLevel(StrEnum):
    OBLAST = "oblast"
    CITY = "city"
    RAION = "raion"
    HROMADA = "hromada"
    DISTRICT = "district"


class ShelterKind(StrEnum):
    SHELTER = "shelter"
    ANTI_RADIATION = "anti_radiation"
    SIMPLE = "simple"
    DUAL_USE = "dual_use"
    METRO = "metro"
    PARKING = "parking"
    TEMPORARY = "temporary"


class Obligation(StrEnum):
    ALWAYS = "24_7"
    ON_ALERT = "on_alert"


class Facility(StrEnum):
    POWER = "power"
    WATER = "water"
    TOILET = "toilet"
    VENTILATION = "ventilation"
    HEATING = "heating"
    FIRST_AID = "first_aid"
    INTERNET = "internet"


class AlertType(StrEnum):
    AIR_RAID = "air_raid"
    ARTILLERY = "artillery"
    URBAN_FIGHTS = "urban_fights"
    CHEMICAL = "chemical"
    NUCLEAR = "nuclear"


class Threat(StrEnum):
    BALLISTIC = "ballistic"
    CRUISE = "cruise"
    DRONES = "drones"
    AVIATION = "aviation"
    UNKNOWN = "unknown"


class ObservationKind(StrEnum):
    OPEN = "open"
    LOCKED = "locked"
    FULL = "full"
    UNFIT = "unfit"
    MISSING = "missing"
    FORCED_OPEN = "forced_open"


class Status(StrEnum):
    OPEN_VERIFIED = "open_verified"
    OPEN_REPORTED = "open_reported"
    UNKNOWN = "unknown"
    FULL = "full"
    LOCKED_REPORTED = "locked_reported"
    LOCKED_CONFIRMED = "locked_confirmed"
    FORCED_OPEN = "forced_open"
    UNFIT = "unfit"
    CLOSED = "closed"


class Resolution(StrEnum):
    OPENED_BY_KEYHOLDER = "opened_by_keyholder"
    FOUND_OPEN = "found_open"
    FORCED_OPEN = "forced_open"
    FALSE_REPORT = "false_report"
    ALERT_ENDED = "alert_ended"


class TaskKind(StrEnum):
    OPEN_LOCKED = "open_locked"
    CHECK = "check"


class Readiness(StrEnum):
    READY = "ready"
    LIMITED = "limited"
    NOT_READY = "not_ready"
