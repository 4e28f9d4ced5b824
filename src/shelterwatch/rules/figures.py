"""The public accountability figures: each one defined once, here, with the words published
beside it on /stats, so a journalist and the city argue about the same number.

The rollups (`shelterwatch.stats`) count; these functions turn counts into figures. A figure
with nothing to count is None ("no data"), never 0 %, which would accuse an owner of a failure
nobody observed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

OPEN_WITHIN_S = 300  # "within 5 minutes of the alert's start"
AUDIT_FRESH_DAYS = 90
RESPONSIVENESS_CASES = 100
PER_SHELTERS, PER_ALERT_HOURS = 100, 100
WINDOWS_DAYS = (7, 30, 90, 365)
OPEN_TIME_BUCKET_S = 10  # time to open is counted in 10-second buckets


def bucket_of(seconds: int) -> int:
    """The 10-second bucket a time to open falls in, by its lower edge."""
    return max(0, seconds) // OPEN_TIME_BUCKET_S * OPEN_TIME_BUCKET_S


def bucket_percentile(counts: Sequence[tuple[int, int]], q: float) -> float | None:
    """Nearest-rank percentile over (bucket lower edge, count) pairs in ascending order, stated
    as the bucket's upper edge: "q of the doors were open within this many seconds"."""
    total = sum(n for _, n in counts)
    if total == 0:
        return None
    rank, seen = max(1, math.ceil(q * total)), 0
    for bucket, n in counts:
        seen += n
        if seen >= rank:
            return float(bucket + OPEN_TIME_BUCKET_S)
    return None  # unreachable: the ranks add up to the total


class FigureId(StrEnum):
    OPEN_WITHIN_5_MIN = "verified_open_within_5_min"
    OPEN_DURING_ALERT = "verified_open_during_alert"
    TIME_TO_OPEN_P50 = "time_to_open_p50_s"
    TIME_TO_OPEN_P90 = "time_to_open_p90_s"
    TIME_TO_OPEN_MEAN = "time_to_open_mean_s"
    CHECK_IN_TIME_MEAN = "keyholder_check_in_mean_s"
    CASE_TIME_TO_OPEN_P50 = "case_time_to_open_p50_s"
    CASE_TIME_TO_OPEN_P90 = "case_time_to_open_p90_s"
    CHECK_IN_RATE = "keyholder_check_in_rate"
    LOCKED_RATE = "locked_per_100_shelters_100_alert_hours"
    REFUSED_RATE = "refused_per_100_shelters_100_alert_hours"
    UNFIT_RATE = "unfit_per_100_shelters_100_alert_hours"
    MISSING_RATE = "missing_per_100_shelters_100_alert_hours"
    ON_TIME_SHARE = "on_time_share"
    RESPONSIVENESS = "responsiveness_s"
    GHOST_RATE = "ghost_rate"
    AUDIT_FRESHNESS = "audit_freshness"


@dataclass(frozen=True, slots=True)
class Definition:
    id: FigureId
    unit: str  # "share", "seconds" or "rate"
    higher_is_better: bool
    title_en: str
    title_uk: str
    definition_en: str
    definition_uk: str


RATE_WORDS = ("per 100 shelters per 100 alert-hours: count × 10,000 ÷ the sum, over the "
              "(shelter, alert) pairs, of the alert's hours")
RATE_WORDS_UK = ("на 100 укриттів на 100 годин тривоги: кількість × 10 000 ÷ сума годин тривоги "
                 "за всіма парами «укриття × тривога»")
DEFINITIONS: tuple[Definition, ...] = (
    Definition(FigureId.OPEN_WITHIN_5_MIN, "share", True, "Verified open within 5 min",
               "Перевірено відкритим за 5 хв",
               "Share of (shelter, alert) pairs with verified-open evidence (door controller "
               "unlocked, keyholder check-in, patrol or auditor `open`, rescue `forced_open`) at "
               "most 300 s after the alert started. Kyiv 2023 baseline: 44% freely accessible + "
               "21% opened within 5 minutes.",
               "Частка пар «укриття × тривога» з доказом, що укриття відчинене (електронний "
               "замок відімкнено, відмітка ключника, «відчинено» від патруля чи інспектора, "
               "«відчинили рятувальники») не пізніше ніж за 300 с від початку тривоги. Київ, "
               "2023: 44% у вільному доступі + 21% відчинено протягом 5 хвилин."),
    Definition(FigureId.OPEN_DURING_ALERT, "share", True, "Verified open during the alert",
               "Перевірено відкритим під час тривоги",
               "Share of (shelter, alert) pairs with verified-open evidence at any time between "
               "the alert's start and end.",
               "Частка пар «укриття × тривога» з доказом, що укриття відчинене, будь-коли від "
               "початку до кінця тривоги."),
    Definition(FigureId.TIME_TO_OPEN_P50, "seconds", False, "Time to open, median",
               "Час до відкриття, медіана",
               "Alert start → first verified-open evidence, over the pairs that got one; "
               "nearest-rank 50th percentile, counted in 10-second buckets and stated as the "
               "bucket's upper edge (half the doors were open within this time).",
               "Початок тривоги → перший доказ, що відчинено, серед пар, де він є; 50-й "
               "процентиль (найближчий ранг), у 10-секундних кошиках, названий верхньою межею "
               "кошика (половина дверей була відчинена за цей час)."),
    Definition(FigureId.TIME_TO_OPEN_P90, "seconds", False, "Time to open, 90th percentile",
               "Час до відкриття, 90-й процентиль",
               "As the median, nearest-rank 90th percentile.",
               "Як медіана, 90-й процентиль (найближчий ранг)."),
    Definition(FigureId.TIME_TO_OPEN_MEAN, "seconds", False, "Time to open, mean",
               "Час до відкриття, середній",
               "Alert start → first verified-open evidence, exact seconds, mean over the pairs "
               "that got one: what owners and districts are ranked on, since a mean adds up "
               "across them and a percentile does not.",
               "Початок тривоги → перший доказ, що відчинено, точні секунди, середнє серед "
               "пар, де він є: за ним порівнюють балансоутримувачів і райони, бо середні "
               "складаються між ними, а процентилі — ні."),
    Definition(FigureId.CHECK_IN_TIME_MEAN, "seconds", False,
               "Keyholder confirmation time, mean", "Час підтвердження ключником, середній",
               "Alert start → the keyholder's `open` check-in, exact seconds, mean over the "
               "pairs with a check-in: how fast the people holding the keys answer.",
               "Початок тривоги → відмітка ключника «відчинено», точні секунди, середнє серед "
               "пар із відміткою: як швидко відповідають ті, хто тримає ключі."),
    Definition(FigureId.CASE_TIME_TO_OPEN_P50, "seconds", False,
               "Locked door: report → open, median", "Зачинені двері: скарга → відкрито, медіана",
               "First `locked` report → the case resolved with the door open (keyholder, found "
               "open, forced open); nearest-rank 50th percentile. Cases never opened are counted "
               "apart, as unanswered.",
               "Перша скарга «зачинено» → випадок закрито відчиненими дверима (ключник, "
               "виявилися відчиненими, відчинили рятувальники); 50-й процентиль (найближчий "
               "ранг). Ніколи не відчинені випадки рахуються окремо, як без відповіді."),
    Definition(FigureId.CASE_TIME_TO_OPEN_P90, "seconds", False,
               "Locked door: report → open, 90th percentile",
               "Зачинені двері: скарга → відкрито, 90-й процентиль",
               "As the median, nearest-rank 90th percentile.",
               "Як медіана, 90-й процентиль (найближчий ранг)."),
    Definition(FigureId.CHECK_IN_RATE, "share", True, "Keyholder check-in rate",
               "Частка відміток ключника",
               "Share of (shelter, alert) pairs where a keyholder recorded `open` during the "
               "alert.",
               "Частка пар «укриття × тривога», де ключник відмітив «відчинено» під час "
               "тривоги."),
    Definition(FigureId.LOCKED_RATE, "rate", False, "Locked doors", "Зачинені двері",
               f"Locked-door cases opened during alerts {RATE_WORDS}.",
               f"Випадки зачинених дверей, відкриті під час тривог, {RATE_WORDS_UK}."),
    Definition(FigureId.REFUSED_RATE, "rate", False, "Refused entry (full)",
               "Відмова у вході (переповнено)",
               f"Reports of `full` (people turned away) during alerts {RATE_WORDS}.",
               f"Повідомлення «переповнене» (людей не пустили) під час тривог {RATE_WORDS_UK}."),
    Definition(FigureId.UNFIT_RATE, "rate", False, "Unfit", "Непридатне",
               f"Reports of `unfit` during alerts {RATE_WORDS}.",
               f"Повідомлення «непридатне» під час тривог {RATE_WORDS_UK}."),
    Definition(FigureId.MISSING_RATE, "rate", False, "Missing", "Відсутнє",
               f"Reports of `missing` (no shelter at the address) during alerts {RATE_WORDS}.",
               f"Повідомлення «укриття немає» (за адресою немає укриття) під час тривог "
               f"{RATE_WORDS_UK}."),
    Definition(FigureId.ON_TIME_SHARE, "share", True, "On time", "Вчасно",
               "Austin 311: locked-door cases closed within the target ÷ (cases closed + cases "
               "still open past the target).",
               "За методикою Austin 311: випадки зачинених дверей, закриті в межах цільового "
               "часу ÷ (закриті випадки + ще відкриті після цільового часу)."),
    Definition(FigureId.RESPONSIVENESS, "seconds", False, "Responsiveness", "Оперативність",
               "FixMyStreet: mean time from report to closing, over the last 100 closed "
               "locked-door cases.",
               "За методикою FixMyStreet: середній час від скарги до закриття за останніми 100 "
               "закритими випадками зачинених дверей."),
    Definition(FigureId.GHOST_RATE, "share", False, "Ghost shelters", "Укриття-привиди",
               "Of the shelters given a full audit, the share the latest audit found not to "
               "exist or used for something else; no data until a full audit is recorded.",
               "Серед укриттів, що пройшли повне обстеження, частка тих, які за останнім "
               "обстеженням не існують або використовуються для іншого; немає даних, доки не "
               "записано повного обстеження."),
    Definition(FigureId.AUDIT_FRESHNESS, "share", True, "Audited in the last 90 days",
               "Перевірено за останні 90 днів",
               "Share of the registry's shelters with an audit (full or quick) in the last 90 "
               "days, counted at the time the figure is read; no data until the city records "
               "its first full audit.",
               "Частка укриттів реєстру, обстежених (повно чи швидко) за останні 90 днів, на "
               "момент, коли показник читають; немає даних, доки місто не запише першого "
               "повного обстеження."),
)
BY_ID = {d.id: d for d in DEFINITIONS}


def share(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least q of the values at or below."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


def rate_per_shelter_alert_hours(count: int, shelter_alert_s: float) -> float | None:
    """Events per 100 shelters per 100 alert-hours."""
    hours = shelter_alert_s / 3600
    return None if hours <= 0 else count * PER_SHELTERS * PER_ALERT_HOURS / hours


def on_time_share(closed_on_time: int, closed: int, open_overdue: int) -> float | None:
    """Austin 311's formula."""
    return share(closed_on_time, closed + open_overdue)


def ghost_rate(ghosts: int, audited: int) -> float | None:
    return share(ghosts, audited)


def audit_freshness(fresh: int, shelters: int, *, audits_started: bool) -> float | None:
    """None until the city records its first full audit; after that an owner or district
    nobody audited is at 0 %, not "no data" — that is the failure the figure exists to show."""
    return share(fresh, shelters) if audits_started else None


def counted_percentile(counts: Sequence[tuple[int, int]], q: float) -> float | None:
    """Nearest-rank percentile over (value, how many) pairs in ascending order."""
    total = sum(n for _, n in counts)
    if total == 0:
        return None
    rank, seen = max(1, math.ceil(q * total)), 0
    for value, n in counts:
        seen += n
        if seen >= rank:
            return float(value)
    return None  # unreachable


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def mean_of(total_s: float, n: int) -> float | None:
    """A mean from its additive parts, to 0.1 s; None when nothing was counted."""
    return None if n == 0 else round(total_s / n, 1)


@dataclass(frozen=True, slots=True)
class Ranked:
    key: str
    value: float | None
    rank: int | None  # 1 = best; None for no data


def rank(values: dict[str, float | None], *, higher_is_better: bool) -> list[Ranked]:
    """Best first, ties sharing a rank (competition ranking); no-data entries last, unranked."""
    known = sorted(((k, v) for k, v in values.items() if v is not None),
                   key=lambda kv: (-kv[1] if higher_is_better else kv[1], kv[0]))
    out: list[Ranked] = []
    previous: float | None = None
    current = 0
    for n, (key, value) in enumerate(known, start=1):
        if value != previous:
            current, previous = n, value
        out.append(Ranked(key, value, current))
    out.extend(Ranked(k, None, None) for k, v in sorted(values.items()) if v is None)
    return out


def worst(values: dict[str, float | None], *, higher_is_better: bool,
          limit: int = 10) -> list[Ranked]:
    """The `limit` worst with data, worst first (the weekly worst-10 owners)."""
    ranked = [r for r in rank(values, higher_is_better=higher_is_better) if r.value is not None]
    return list(reversed(ranked))[:limit]


@dataclass(slots=True)
class Tally:
    """What one owner or district adds up to: every count is additive, so a district is the sum
    of the areas under it. Time-to-open buckets and case open times are histograms, also
    additive; only responsiveness (the mean over the *last* 100 cases) is not: it is read per
    owner (`responsiveness_s`) and left out of a sum."""

    pairs: int = 0
    open_5: int = 0
    open_during: int = 0
    check_ins: int = 0
    alert_s: float = 0.0
    full: int = 0
    unfit: int = 0
    missing: int = 0
    locked_during: int = 0
    closed: int = 0
    on_time: int = 0
    overdue: int = 0
    shelters: int = 0
    audited: int = 0
    ghosts: int = 0
    fresh: int = 0
    open_s: float = 0.0  # Σ seconds to the first verified open, over open_during
    check_in_s: float = 0.0  # Σ seconds to the keyholder's check-in, over check_ins
    responsiveness_s: float | None = None  # read per owner; never summed
    responsiveness_read: bool = False  # True for owners: None is then "no closed case"
    open_buckets: dict[int, int] | None = None  # None: not counted for this kind of group
    case_open_s: dict[int, int] | None = None

    def add(self, other: Tally) -> None:
        for name in ("pairs", "open_5", "open_during", "check_ins", "alert_s", "full", "unfit",
                     "missing", "locked_during", "closed", "on_time", "overdue", "shelters",
                     "audited", "ghosts", "fresh", "open_s", "check_in_s"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("open_buckets", "case_open_s"):
            theirs = getattr(other, name)
            if theirs is None:
                continue
            mine = getattr(self, name)
            if mine is None:
                mine = {}
                setattr(self, name, mine)
            for key, n in theirs.items():
                mine[key] = mine.get(key, 0) + n


def tally_figures(t: Tally, *, audits_started: bool) -> dict[FigureId, float | None]:
    """The figures a tally ranks on; a figure it cannot give is left out, not None."""
    out: dict[FigureId, float | None] = {
        FigureId.OPEN_WITHIN_5_MIN: share(t.open_5, t.pairs),
        FigureId.OPEN_DURING_ALERT: share(t.open_during, t.pairs),
        FigureId.CHECK_IN_RATE: share(t.check_ins, t.pairs),
        FigureId.TIME_TO_OPEN_MEAN: mean_of(t.open_s, t.open_during),
        FigureId.CHECK_IN_TIME_MEAN: mean_of(t.check_in_s, t.check_ins),
        FigureId.LOCKED_RATE: rate_per_shelter_alert_hours(t.locked_during, t.alert_s),
        FigureId.REFUSED_RATE: rate_per_shelter_alert_hours(t.full, t.alert_s),
        FigureId.UNFIT_RATE: rate_per_shelter_alert_hours(t.unfit, t.alert_s),
        FigureId.MISSING_RATE: rate_per_shelter_alert_hours(t.missing, t.alert_s),
        FigureId.ON_TIME_SHARE: on_time_share(t.on_time, t.closed, t.overdue),
        FigureId.GHOST_RATE: ghost_rate(t.ghosts, t.audited),
        FigureId.AUDIT_FRESHNESS: audit_freshness(t.fresh, t.shelters,
                                                  audits_started=audits_started),
    }
    if t.open_buckets is not None:
        buckets = sorted(t.open_buckets.items())
        out[FigureId.TIME_TO_OPEN_P50] = bucket_percentile(buckets, 0.5)
        out[FigureId.TIME_TO_OPEN_P90] = bucket_percentile(buckets, 0.9)
    if t.responsiveness_read:
        out[FigureId.RESPONSIVENESS] = t.responsiveness_s
    if t.case_open_s is not None:
        opened = sorted(t.case_open_s.items())
        out[FigureId.CASE_TIME_TO_OPEN_P50] = counted_percentile(opened, 0.5)
        out[FigureId.CASE_TIME_TO_OPEN_P90] = counted_percentile(opened, 0.9)
    return out
