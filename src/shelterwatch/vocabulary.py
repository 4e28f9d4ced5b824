"""The domain's words (DESIGN §2) as enums, so a typo is an error and not a silent new state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum


class Role(StrEnum):
    RESIDENT = "resident"
    KEYHOLDER = "keyholder"
    PATROL = "patrol"
    OPERATOR = "operator"
    AUDITOR = "auditor"
    DOOR = "door"  # a door controller speaking for itself
    OWNER = "owner"  # a balance-keeper organisation, bound to its shelters


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


class Noun(StrEnum):
    """What a timer, a queued delivery or a recipient is about: the first half of a Subject."""

    ALERT = "alert"
    AREA = "area"  # what a chat or a phone follows to hear of alerts there
    INCIDENT = "incident"
    OBSERVATION = "observation"
    SHELTER = "shelter"
    KEYHOLDER = "keyholder"
    OWNER = "owner"
    DOOR = "door"


@dataclass(frozen=True, slots=True)
class Subject:
    """A thing named by noun and id, written "incident:17" in timers, delivery keys and recipients.

    The id is a row's number, or a public tracking id ("observation:KV-7F3K-2Q"). Keys may carry
    more after the subject ("alert:3:shelter:88", "keyholder:4:email"); `head` reads the subject
    they start with, `parse` accepts the plain form only.
    """

    noun: Noun
    id: int | str

    def __str__(self) -> str:
        return f"{self.noun.value}:{self.id}"

    @classmethod
    def parse(cls, text: str) -> Subject:
        """ "incident:17" → Subject(INCIDENT, 17); ValueError for anything else."""
        noun, sep, ident = text.partition(":")
        if not sep or not ident or ":" in ident:
            raise ValueError(f"{text!r} is not noun:id")
        return cls(Noun(noun), int(ident) if ident.isdigit() else ident)

    @property
    def number(self) -> int:
        """The id of a subject that names a row; ValueError for a tracking id."""
        if isinstance(self.id, int):
            return self.id
        raise ValueError(f"{self} names no row")

    @classmethod
    def head(cls, key: str) -> Subject:
        """The subject a longer key starts with: "alert:3:shelter:88" → Subject(ALERT, 3)."""
        noun, _, rest = key.partition(":")
        return cls.parse(f"{noun}:{rest.partition(':')[0]}")


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
    SOURCE_QUARANTINED = "source.quarantined"
    SOURCE_RELEASED = "source.released"
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
    NOTIFICATION_BROADCAST_QUEUED = "notification.broadcast_queued"
    CHANNEL_FOLLOWED = "channel.followed"
    CHANNEL_UNFOLLOWED = "channel.unfollowed"
    CHANNEL_SHOWN = "channel.shown"  # a chat was shown shelters: told if one is reported locked
    CHANNEL_EXPIRED = "channel.expired"
    PUSH_SUBSCRIBED = "push.subscribed"
    PUSH_EXPIRED = "push.expired"
    AUDIT_RECORDED = "audit.recorded"
    READINESS_CHANGED = "readiness.changed"
    DEFICIENCY_OPENED = "deficiency.opened"
    DEFICIENCY_CLOSED = "deficiency.closed"
    PHOTO_STORED = "photo.stored"
    SHELTER_GHOSTED = "shelter.ghosted"
    SHELTER_RESTORED = "shelter.restored"
    CAMPAIGN_CREATED = "campaign.created"


class ReasonCode(StrEnum):
    """Why a status is what it is, as the status rule says it: a code with parameters, worded
    only at the edge by the message catalogue (`shelterwatch.messages`), so rewording a sentence
    never changes which facts are appended."""

    NOBODY_CHECKED = "nobody_checked"  # no evidence at all
    REPORTS_TOO_WEAK = "reports_too_weak"  # reports exist, too old or too far to count
    CROWD_REPORTED = "crowd_reported"  # {kind, residents, auditors, latest_at, reason}
    STAYS_ON_MAP = "stays_on_map"  # `missing` from the crowd never closes a shelter
    OUTWEIGHS = "outweighs"  # the crowd overturned {role} recorded {kind} at {at}
    RECORDED = "recorded"  # {role} recorded {kind} at {at}
    UNFIT_REASON = "unfit_reason"  # {reason}
    CROWD_SINCE = "crowd_since"  # the same, said after an authoritative word
    NOT_ENOUGH = "not_enough"  # the contrary reports do not yet change the status
    SET_ASIDE = "set_aside"  # {reporters}: their source is quarantined by an operator
    # Why a shelter is offered where it is in a nearest answer (`rules.ranking`).
    STATUS = "status"  # {status}: its headline
    WALK = "walk"  # {minutes} on foot
    REACHABLE = "reachable"
    NOT_REACHABLE = "not_reachable"
    IN_TIME_FIRST = "in_time_first"  # ahead of a better-known door only because it is in time
    NEARER_FIRST = "nearer_first"  # ahead of a better-known door: enough nearer to try first
    STEP_FREE = "step_free"
    CAPACITY = "capacity"  # {capacity}
    STEP_FREE_UNCONFIRMED = "step_free_unconfirmed"
    READINESS = "readiness"  # {category, items_uk, items_en}: what an audit found lacking


Param = str | int | float


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason code with its parameters; what a status fact records instead of a sentence."""

    code: ReasonCode
    params: tuple[tuple[str, Param], ...] = ()

    @classmethod
    def of(cls, code: ReasonCode, **params: Param) -> Reason:
        return cls(code, tuple(sorted(params.items())))

    def as_json(self) -> dict[str, Param]:
        return {"code": self.code.value, **dict(self.params)}

    @classmethod
    def from_json(cls, data: dict[str, Param]) -> Reason:
        rest = {k: v for k, v in data.items() if k != "code"}
        return cls.of(ReasonCode(str(data["code"])), **rest)


class ConfidenceBand(StrEnum):
    """How sure a status is, in the steps a resident would notice."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


# The kinds a consumer subscribes to as a family, named once (never matched by a name's prefix).
INCIDENT_KINDS: frozenset[FactKind] = frozenset({
    FactKind.INCIDENT_OPENED, FactKind.INCIDENT_JOINED, FactKind.INCIDENT_ESCALATED,
    FactKind.INCIDENT_RESOLVED})
ALERT_KINDS: frozenset[FactKind] = frozenset({FactKind.ALERT_STARTED, FactKind.ALERT_ENDED})
# The outbox's own bookkeeping: an alert's surge is ten thousand of these.
NOTIFICATION_KINDS: frozenset[FactKind] = frozenset({
    FactKind.NOTIFICATION_QUEUED, FactKind.NOTIFICATION_SENT, FactKind.NOTIFICATION_FAILED,
    FactKind.NOTIFICATION_BROADCAST_QUEUED})
REGISTRY_KINDS: frozenset[FactKind] = frozenset({
    FactKind.SHELTER_CREATED, FactKind.SHELTER_UPDATED, FactKind.AREA_CREATED,
    FactKind.AREA_UPDATED})


def recipient_role(recipient: str) -> str:
    """Who kind of person a delivery's recipient key names ("keyholder:4:email" → "keyholder"):
    what the public log and the tracking page may say, never which one."""
    return recipient.partition(":")[0]


def subjects_in(key: object) -> list[Subject]:
    """Every subject a key names, in order: "alert:3:shelter:88" → [alert 3, shelter 88]."""
    if not isinstance(key, str):
        return []
    parts = key.split(":")
    found: list[Subject] = []
    for noun, ident in zip(parts[::2], parts[1::2], strict=False):
        try:
            found.append(Subject.parse(f"{noun}:{ident}"))
        except ValueError:
            continue
    return found


def subject_of(key: object, noun: Noun) -> Subject | None:
    """The subject a key starts with when it names this noun ("incident:17:…"); else None."""
    if not isinstance(key, str):
        return None
    try:
        found = Subject.head(key)
    except ValueError:
        return None
    return found if found.noun is noun else None


def as_utc(value: datetime) -> datetime:
    """Treat naive datetimes read back from SQLite as the UTC they were stored as."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def format_at(at: datetime) -> str:
    """How a fact writes an instant: fixed-width UTC, identical whichever database stored it."""
    return as_utc(at).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
