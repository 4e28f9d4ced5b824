"""A shelter's status, derived from the evidence about it (DESIGN §2 Status).

Nobody types a status in. Every observation is weighed: by who made it (a keyholder, a patrol or a
door controller speaks with authority; a resident is one voice among many), by how long ago (a
resident's report halves in weight every half-life), by where the reporter stood (a report from
across the city is barely plausible), and one device counts once however often it reports. The
newest authoritative observation stands until newer evidence outweighs it, so a keyholder's `open`
is not overturned by one anonymous `locked` — but three residents at the door do overturn it.

The result carries a confidence and reason codes that name the evidence (`locked_reported`
because `crowd_reported{kind: locked, residents: 3}`), because a resident deciding where to run in
two minutes must be able to see why we say what we say; the message catalogue words them at the
edge, so a status is the same status however its sentence is worded. Everything here is a pure
function of the observations and `now`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from shelterwatch.vocabulary import (
    ConfidenceBand,
    ObservationKind,
    Reason,
    ReasonCode,
    Role,
    Status,
)

AUTHORITATIVE: frozenset[Role] = frozenset({Role.KEYHOLDER, Role.PATROL, Role.DOOR, Role.OPERATOR})

# When weights tie, the pessimistic reading wins: sending someone to a locked door costs more than
# sending them one door further.
PESSIMISM: Sequence[ObservationKind] = (
    ObservationKind.LOCKED,
    ObservationKind.REFUSED,
    ObservationKind.UNFIT,
    ObservationKind.FULL,
    ObservationKind.MISSING,
    ObservationKind.OPEN,
    ObservationKind.FORCED_OPEN,
)

AUTHORITATIVE_STATUS: Mapping[ObservationKind, Status] = {
    ObservationKind.OPEN: Status.OPEN_VERIFIED,
    ObservationKind.FORCED_OPEN: Status.FORCED_OPEN,
    ObservationKind.LOCKED: Status.LOCKED_CONFIRMED,
    ObservationKind.FULL: Status.FULL,
    ObservationKind.UNFIT: Status.UNFIT,
    ObservationKind.MISSING: Status.CLOSED,
    ObservationKind.REFUSED: Status.REFUSED_REPORTED,
}

# What the crowd's reports can say. `missing` from residents never closes a shelter (DESIGN §3.4):
# the shelter stays on the map as `unknown`, labelled, until someone with authority looks.
CROWD_STATUS: Mapping[ObservationKind, Status] = {
    ObservationKind.OPEN: Status.OPEN_REPORTED,
    ObservationKind.FORCED_OPEN: Status.OPEN_REPORTED,
    ObservationKind.LOCKED: Status.LOCKED_REPORTED,
    ObservationKind.FULL: Status.FULL,
    ObservationKind.UNFIT: Status.UNFIT,
    ObservationKind.MISSING: Status.UNKNOWN,
    ObservationKind.REFUSED: Status.REFUSED_REPORTED,
}

@dataclass(frozen=True, slots=True)
class Evidence:
    """One observation as the rule sees it: no names, only what weighs."""

    id: str
    kind: ObservationKind
    role: Role
    at: datetime
    reporter: str = ""  # device id, token id or door; "" when the reporter gave none
    distance_m: float | None = None  # reporter's distance from the shelter, when known
    reason: str = ""  # why `unfit`
    # Its source is quarantined by an operator (a flood from one network): kept in the record,
    # weighed as nothing, and counted in the explanation so the status says why it is quiet.
    set_aside: bool = False


@dataclass(frozen=True, slots=True)
class StatusPolicy:
    """The knobs of the status engine; defaults are the city's defaults."""

    role_weights: Mapping[Role, float] = field(default_factory=lambda: {
        Role.RESIDENT: 1.0, Role.AUDITOR: 2.0, Role.KEYHOLDER: 3.0, Role.PATROL: 3.0,
        Role.DOOR: 3.0, Role.OPERATOR: 3.0,
    })
    half_life_s: float = 1800.0  # a resident's report halves in weight every 30 minutes
    horizon_s: float = 6 * 3600.0  # older non-authoritative reports are ignored
    authoritative_ttl_s: float = 12 * 3600.0  # an authoritative word stands this long at most
    authoritative_half_life_s: float = 6 * 3600.0  # how fast confidence in it fades
    near_m: float = 300.0  # within this a report is fully plausible
    min_plausibility: float = 0.05
    unknown_position: float = 0.6  # plausibility when the reporter sent no position
    device_cap: float = 1.0  # share of its role's weight one device can carry, however often
    min_score: float = 0.3  # below this the crowd has said nothing
    confirm_score: float = 1.5  # the crowd confirms `locked` with this much weight …
    confirm_devices: int = 2  # … from at least this many distinct devices
    override_score: float = 2.5  # crowd weight that overturns an authoritative observation


DEFAULT_POLICY = StatusPolicy()


@dataclass(frozen=True, slots=True)
class Derived:
    """A status and why: the confidence, the reason codes and the observations behind it."""

    status: Status
    confidence: float
    reasons: tuple[Reason, ...]
    observation_ids: tuple[str, ...]

    @property
    def band(self) -> ConfidenceBand:
        return confidence_band(self.confidence)

    @property
    def identity(self) -> Identity:
        """What makes this status news when it differs: never its wording, never a confidence
        drifting within its band."""
        return identity(self.status, self.reasons, self.confidence)


Identity = tuple[Status, tuple[Reason, ...], ConfidenceBand]

# Where confidence changes enough to be news: a resident reads "likely" or "uncertain", not 0.61.
BAND_EDGES: Sequence[tuple[float, ConfidenceBand]] = (
    (0.7, ConfidenceBand.HIGH), (0.4, ConfidenceBand.MEDIUM), (0.0, ConfidenceBand.LOW))


def confidence_band(confidence: float) -> ConfidenceBand:
    return next(band for edge, band in BAND_EDGES if confidence >= edge)


def identity(status: Status | str, reasons: Sequence[Reason], confidence: float) -> Identity:
    """A status's identity from its parts (a stored row, a fact's payload or `Derived`)."""
    return Status(status), tuple(reasons), confidence_band(confidence)


@dataclass(frozen=True, slots=True)
class _Crowd:
    score: Mapping[ObservationKind, float]
    devices: Mapping[ObservationKind, int]
    ids: tuple[str, ...]
    latest: Mapping[ObservationKind, datetime]
    reasons: Mapping[ObservationKind, str]
    auditors: Mapping[ObservationKind, int] = field(default_factory=dict)  # of `devices`

    def best(self) -> tuple[ObservationKind, float] | None:
        if not self.score:
            return None
        kind = max(PESSIMISM, key=lambda k: (self.score.get(k, 0.0), -PESSIMISM.index(k)))
        return kind, self.score.get(kind, 0.0)

    def total(self) -> float:
        return sum(self.score.values())


def plausibility(distance_m: float | None, policy: StatusPolicy = DEFAULT_POLICY) -> float:
    """How much to believe a report given where its sender stood (1 at the door)."""
    if distance_m is None:
        return policy.unknown_position
    if distance_m <= policy.near_m:
        return 1.0
    return max(policy.min_plausibility, policy.near_m / distance_m)


def weight(item: Evidence, now: datetime, policy: StatusPolicy = DEFAULT_POLICY) -> float:
    """The weight of one non-authoritative observation at `now`, before the per-device cap."""
    age = max(0.0, (now - item.at).total_seconds())
    decay: float = 0.5 ** (age / policy.half_life_s)
    return policy.role_weights.get(item.role, 1.0) * decay * plausibility(item.distance_m, policy)


def is_authoritative(role: Role) -> bool:
    return role in AUTHORITATIVE


def _order(item: Evidence) -> tuple[datetime, str]:
    return item.at, item.id


def _crowd(items: Sequence[Evidence], now: datetime, policy: StatusPolicy) -> _Crowd:
    """Each device counts once, by its latest word; reports without a device share one voice.

    `items` come in `_order` (time, then id), as `derive` sorts them: the last word wins. The
    latest words are then weighed in that same order (so the newest reason for a kind is the one
    shown), which makes the result depend on each device's latest word alone — nothing else a
    device said earlier, not even when it first spoke.
    """
    latest_by_device: dict[str, Evidence] = {}
    for item in items:
        latest_by_device[item.reporter] = item
    score: dict[ObservationKind, float] = {}
    devices: dict[ObservationKind, int] = {}
    latest: dict[ObservationKind, datetime] = {}
    reasons: dict[ObservationKind, str] = {}
    auditors: dict[ObservationKind, int] = {}
    ids: list[Evidence] = []
    for item in sorted(latest_by_device.values(), key=_order):
        w = min(policy.device_cap * policy.role_weights.get(item.role, 1.0),
                weight(item, now, policy))
        if w <= 0.0:
            continue
        score[item.kind] = score.get(item.kind, 0.0) + w
        devices[item.kind] = devices.get(item.kind, 0) + 1
        if item.role is Role.AUDITOR:
            auditors[item.kind] = auditors.get(item.kind, 0) + 1
        latest[item.kind] = max(latest.get(item.kind, item.at), item.at)
        if item.reason:
            reasons[item.kind] = item.reason
        ids.append(item)
    return _Crowd(score, devices, tuple(i.id for i in sorted(ids, key=_order)), latest, reasons,
                  auditors)


def _crowd_status(kind: ObservationKind, score: float, devices: int,
                  policy: StatusPolicy) -> Status:
    if (kind is ObservationKind.LOCKED and score >= policy.confirm_score
            and devices >= policy.confirm_devices):
        return Status.LOCKED_CONFIRMED
    return CROWD_STATUS[kind]


def derive(observations: Iterable[Evidence], *, now: datetime,
           policy: StatusPolicy = DEFAULT_POLICY) -> Derived:
    """The status of one shelter at `now` from every observation about it.

    Evidence set aside (its source quarantined) weighs nothing; the explanation says how many
    recent reports were set aside, so a resident and the desk see why they do not count.
    """
    kept: list[Evidence] = []
    aside: set[str] = set()  # reporters, counted once each as everywhere else
    for o in observations:
        if not o.set_aside:
            kept.append(o)
        elif o.at <= now and (now - o.at).total_seconds() <= policy.horizon_s:
            aside.add(o.reporter)
    derived = _derive(kept, now=now, policy=policy)
    if not aside:
        return derived
    set_aside = Reason.of(ReasonCode.SET_ASIDE, reporters=len(aside))
    return Derived(derived.status, derived.confidence, (*derived.reasons, set_aside),
                   derived.observation_ids)


def _derive(observations: Iterable[Evidence], *, now: datetime,
            policy: StatusPolicy) -> Derived:
    items = sorted((o for o in observations if o.at <= now), key=_order)
    auth = [o for o in items if is_authoritative(o.role)
            and (now - o.at).total_seconds() <= policy.authoritative_ttl_s]
    anchor = auth[-1] if auth else None
    crowd_items = [o for o in items if not is_authoritative(o.role)
                   and (now - o.at).total_seconds() <= policy.horizon_s
                   and (anchor is None or _order(o) > _order(anchor))]
    crowd = _crowd(crowd_items, now, policy)
    best = crowd.best()
    if anchor is not None:
        return _with_anchor(anchor, crowd, best, now, policy)
    if best is None or best[1] < policy.min_score:
        why = ReasonCode.REPORTS_TOO_WEAK if crowd.ids else ReasonCode.NOBODY_CHECKED
        return Derived(Status.UNKNOWN, 0.0, (Reason.of(why),), crowd.ids)
    kind, score = best
    status = _crowd_status(kind, score, crowd.devices.get(kind, 0), policy)
    confidence = round(min(0.95, score / (crowd.total() + 1.0)), 2)
    reasons = _crowd_reasons(crowd, first=kind)
    if kind is ObservationKind.MISSING:
        reasons.append(Reason.of(ReasonCode.STAYS_ON_MAP))
    return Derived(status, confidence, tuple(reasons), crowd.ids)


def _with_anchor(anchor: Evidence, crowd: _Crowd, best: tuple[ObservationKind, float] | None,
                 now: datetime, policy: StatusPolicy) -> Derived:
    """An authoritative observation, and whatever the crowd has said since."""
    anchor_status = AUTHORITATIVE_STATUS[anchor.kind]
    age = max(0.0, (now - anchor.at).total_seconds())
    anchor_conf: float = 0.95 * 0.5 ** (age / policy.authoritative_half_life_s)
    ids = (anchor.id, *crowd.ids)
    said = {"role": anchor.role.value, "kind": anchor.kind.value, "at": _instant(anchor.at)}
    if best is not None:
        kind, score = best
        crowd_status = _crowd_status(kind, score, crowd.devices.get(kind, 0), policy)
        if not _same_reading(anchor.kind, kind) and score >= policy.override_score:
            confidence = round(min(0.95, score / (crowd.total() + 1.0)), 2)
            reasons = _crowd_reasons(crowd, first=kind)
            reasons.append(Reason.of(ReasonCode.OUTWEIGHS, **said))
            return Derived(crowd_status, confidence, tuple(reasons), ids)
    contrary = sum(s for k, s in crowd.score.items() if not _same_reading(anchor.kind, k))
    confidence = round(anchor_conf * policy.override_score / (policy.override_score + contrary), 2)
    reasons = [Reason.of(ReasonCode.RECORDED, **said)]
    if anchor.kind is ObservationKind.UNFIT and anchor.reason:
        reasons.append(Reason.of(ReasonCode.UNFIT_REASON, reason=anchor.reason))
    if crowd.ids:
        reasons.extend(_crowd_reasons(crowd, first=None, code=ReasonCode.CROWD_SINCE))
        if contrary > 0:
            reasons.append(Reason.of(ReasonCode.NOT_ENOUGH))
    return Derived(anchor_status, confidence, tuple(reasons), ids)


def _instant(at: datetime) -> str:
    """A moment as a reason's parameter: UTC, ISO 8601, to the second."""
    return at.astimezone(UTC).isoformat(timespec="seconds")


def _crowd_reasons(crowd: _Crowd, first: ObservationKind | None,
                   code: ReasonCode = ReasonCode.CROWD_REPORTED) -> list[Reason]:
    """One reason per kind the crowd reported: who (residents, auditors), when last, why."""
    kinds = sorted(crowd.score, key=lambda k: (k is not first, PESSIMISM.index(k)))
    reasons: list[Reason] = []
    for kind in kinds:
        auditors = crowd.auditors.get(kind, 0)
        reasons.append(Reason.of(
            code, kind=kind.value, auditors=auditors,
            residents=crowd.devices[kind] - auditors,
            latest_at=_instant(crowd.latest[kind]), reason=crowd.reasons.get(kind, "")))
    return reasons


def _same_reading(anchor: ObservationKind, crowd: ObservationKind) -> bool:
    """Whether the crowd says what the authority said (`forced_open` is open, to a resident)."""
    opened = {ObservationKind.OPEN, ObservationKind.FORCED_OPEN}
    return anchor is crowd or (anchor in opened and crowd in opened)


def pertinent(observations: Iterable[Evidence], *, now: datetime,
              policy: StatusPolicy = DEFAULT_POLICY) -> list[Evidence]:
    """Only the observations `derive` can use at `now`: the newest authoritative one within its
    time to live, and each reporter's newest other observation within the horizon (and its
    newest set aside, which the explanation counts).

    `derive` counts a device once, by its latest word, and lets only the newest authoritative
    observation stand, so the rest cannot change the result; during a burst a shelter gathers
    many reports per phone, and loading only these keeps the cost per report flat. The order of
    the result is that of `derive` (time, then id).
    """
    anchor: Evidence | None = None
    latest: dict[tuple[str, bool], Evidence] = {}
    for item in observations:
        if item.at > now:
            continue
        age = (now - item.at).total_seconds()
        if item.role in AUTHORITATIVE:
            if age <= policy.authoritative_ttl_s and (anchor is None
                                                      or _order(item) > _order(anchor)):
                anchor = item
        elif age <= policy.horizon_s:
            key = (item.reporter, item.set_aside)
            seen = latest.get(key)
            if seen is None or _order(item) > _order(seen):
                latest[key] = item
    kept = list(latest.values())
    if anchor is not None:
        kept.append(anchor)
    return sorted(kept, key=_order)


def carried(observations: Iterable[Evidence], *, now: datetime,
            policy: StatusPolicy = DEFAULT_POLICY) -> list[Evidence]:
    """What to keep of these observations to evaluate again at any time from `now` on: the
    pertinent ones at `now` and any dated after it (a clock elsewhere may run ahead).

    Whatever is added later, `pertinent` at a later time picks the same from what was carried
    as from everything: what it drops now is older than something kept, or already too old.
    """
    later = [o for o in observations if o.at > now]
    return sorted([*pertinent(observations, now=now, policy=policy), *later], key=_order)


def evaluation_horizon(policy: StatusPolicy = DEFAULT_POLICY) -> timedelta:
    """How far back observations can still matter; older ones need not be loaded."""
    return timedelta(seconds=max(policy.horizon_s, policy.authoritative_ttl_s))
