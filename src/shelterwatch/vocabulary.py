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
    # The door is open but the people there are not let in (28 of the first 500 reports to the
    # 2023 government bot): as bad as locked for whoever stands outside.
    REFUSED = "refused"


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
    REFUSED_REPORTED = "refused_reported"


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


class FactKind(StrEnum):
    """Every kind of fact the log holds: writers append members, consumers subscribe by member.

    A StrEnum, so a stored kind read back as text compares equal to its member.
    """

    AREA_CREATED = "area.created"
    AREA_UPDATED = "area.updated"
    SHELTER_CREATED = "shelter.created"
    SHELTER_UPDATED = "shelter.updated"
    ALERT_STARTED = "alert.started"
    ALERT_ENDED = "alert.ended"
    FEED_FAILED = "feed.failed"
    FEED_RECOVERED = "feed.recovered"
    TOKEN_CREATED = "token.created"
    TOKEN_REVOKED = "token.revoked"
    OBSERVATION_RECORDED = "observation.recorded"
    STATUS_CHANGED = "status.changed"
    PLACE_NO_SHELTER_REPORTED = "place.no_shelter_reported"
    INCIDENT_OPENED = "incident.opened"
    INCIDENT_JOINED = "incident.joined"
    INCIDENT_ESCALATED = "incident.escalated"
    INCIDENT_RESOLVED = "incident.resolved"
    ESCALATION_ALERT_STARTED = "escalation.alert_started"
    ESCALATION_STEP = "escalation.step"
    ESCALATION_ROUNDS = "escalation.rounds"
    TASK_CREATED = "task.created"
    TASK_TAKEN = "task.taken"
    TASK_DONE = "task.done"
    TASK_CANCELLED = "task.cancelled"
    NOTIFICATION_QUEUED = "notification.queued"
    NOTIFICATION_SENT = "notification.sent"
    NOTIFICATION_FAILED = "notification.failed"
    KEYHOLDER_CREATED = "keyholder.created"
    KEYHOLDER_DEACTIVATED = "keyholder.deactivated"
    OWNER_CREATED = "owner.created"
    PATROL_CREATED = "patrol.created"
    PATROL_UPDATED = "patrol.updated"
    DOOR_REGISTERED = "door.registered"
    DOOR_STATE = "door.state"
    DOOR_SILENT = "door.silent"
    DOOR_BACK = "door.back"
