"""A shelter's readiness category from its audit answers: the checklist model and the rule.

No official mapping from checklist items to the three official categories (готові / обмежено
готові / не готові) was found, and the same Kyiv data gave different headlines under different
rules. So the rule is data with a version, served at `/v1/checklist` and printed in the README, and
every audit records the checklist and rule versions that judged it: a figure can be recomputed
years later. The default is the worst-item rule the field's nearest analogues use (ATC-20 building
tagging, tables of "limited" and "not ready" criteria): any critical fail makes a shelter not
ready, any major fail limited, otherwise ready. Every category carries the reasons that made it.

Everything here is pure: plain data in, plain data out, no clock (callers pass times).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from shelterwatch.vocabulary import Readiness, ShelterKind


class Severity(StrEnum):
    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"


class AnswerType(StrEnum):
    PASS_FAIL = "pass_fail"
    NUMBER = "number"


class Tier(StrEnum):
    """A door quick-check (under a minute) or the full audit (about twenty minutes)."""

    QUICK = "quick"
    FULL = "full"


class Mark(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NA = "na"


class GhostReason(StrEnum):
    DOES_NOT_EXIST = "does_not_exist"
    USED_FOR_SOMETHING_ELSE = "used_for_something_else"


GHOST_TEXT: Mapping[GhostReason, tuple[str, str]] = {
    GhostReason.DOES_NOT_EXIST: ("укриття за адресою немає", "no shelter at this address"),
    GhostReason.USED_FOR_SOMETHING_ELSE: ("використовується для іншого",
                                          "used for something else"),
}
CATEGORY_TEXT: Mapping[Readiness, tuple[str, str]] = {
    Readiness.READY: ("готове", "ready"),
    Readiness.LIMITED: ("обмежено готове", "limited"),
    Readiness.NOT_READY: ("не готове", "not ready"),
}
ALL_KINDS = "*"


@dataclass(frozen=True, slots=True)
class Item:
    """One checklist item: what is checked, where the requirement comes from, how bad a fail is."""

    id: str
    group: str
    clause: str
    answer: AnswerType
    severity: Severity
    kinds: frozenset[str]  # ShelterKind values, or {"*"}
    uk: str
    en: str
    fail_uk: str
    fail_en: str
    quick: bool = False
    ghost: GhostReason | None = None
    unit: str | None = None
    min_per_person: float | None = None  # a number item fails below capacity × this

    def applies_to(self, kind: str) -> bool:
        return ALL_KINDS in self.kinds or kind in self.kinds

    def public(self) -> dict[str, Any]:
        """The item as `/v1/checklist` publishes it."""
        return {"id": self.id, "group": self.group, "clause": self.clause,
                "answer_type": self.answer.value, "severity": self.severity.value,
                "kinds": sorted(self.kinds), "quick": self.quick,
                "ghost": self.ghost.value if self.ghost else None, "unit": self.unit,
                "min_per_person": self.min_per_person,
                "label": {"uk": self.uk, "en": self.en},
                "fail_label": {"uk": self.fail_uk, "en": self.fail_en}}


@dataclass(frozen=True)
class Checklist:
    version: str
    items: tuple[Item, ...]
    by_id: Mapping[str, Item] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {i.id: i for i in self.items})

    def item(self, item_id: str) -> Item | None:
        return self.by_id.get(item_id)

    def for_tier(self, tier: Tier, kind: str) -> list[Item]:
        """The items a shelter of this kind is asked about in this tier."""
        return [i for i in self.items
                if i.applies_to(kind) and (tier is Tier.FULL or i.quick)]


def parse_checklist(data: Mapping[str, Any]) -> Checklist:
    """A checklist from its data file's content; ValueError names the first bad item."""
    items = []
    seen: set[str] = set()
    kinds = {k.value for k in ShelterKind} | {ALL_KINDS}
    for raw in data["items"]:
        ident = str(raw["id"])
        if ident in seen:
            raise ValueError(f"checklist item {ident!r} appears twice")
        seen.add(ident)
        unknown = set(raw["kinds"]) - kinds
        if unknown:
            raise ValueError(f"checklist item {ident!r}: unknown kinds {sorted(unknown)}")
        items.append(Item(
            id=ident, group=str(raw["group"]), clause=str(raw["clause"]),
            answer=AnswerType(raw["answer"]), severity=Severity(raw["severity"]),
            kinds=frozenset(raw["kinds"]), uk=raw["uk"], en=raw["en"],
            fail_uk=raw.get("fail_uk", ""), fail_en=raw.get("fail_en", ""),
            quick=bool(raw.get("quick", False)),
            ghost=GhostReason(raw["ghost"]) if raw.get("ghost") else None,
            unit=raw.get("unit"), min_per_person=raw.get("min_per_person")))
    return Checklist(version=str(data["version"]), items=tuple(items))


@dataclass(frozen=True, slots=True)
class CategoryRule:
    """What a fail of each severity does to the category; a city may publish its own version.

    `minor_fails_limit`: that many minor fails count as one major fail (None: minors never
    change the category).
    """

    version: str
    on_fail: Mapping[Severity, Readiness]
    minor_fails_limit: int | None = None
    description: str = ""

    def public(self) -> dict[str, Any]:
        return {"version": self.version, "description": self.description,
                "on_fail": {s.value: c.value for s, c in self.on_fail.items()},
                "minor_fails_limit": self.minor_fails_limit}


WORST_OF = CategoryRule(
    version="worst-of/1",
    on_fail={Severity.CRITICAL: Readiness.NOT_READY, Severity.MAJOR: Readiness.LIMITED,
             Severity.MINOR: Readiness.READY},
    description="Worst item decides: any critical fail → not_ready; any major fail → limited; "
                "otherwise ready. Minor fails are listed as reasons but do not change the "
                "category. Items that do not apply to the shelter's kind, and items answered "
                "'not applicable', are not counted.")
WORST_OF_STRICT = CategoryRule(
    version="worst-of-strict/1",
    on_fail=WORST_OF.on_fail, minor_fails_limit=3,
    description="As worst-of/1, and three or more minor fails count as a major fail (limited).")
RULES: Mapping[str, CategoryRule] = {r.version: r for r in (WORST_OF, WORST_OF_STRICT)}
ORDER: Mapping[Readiness, int] = {Readiness.READY: 0, Readiness.LIMITED: 1, Readiness.NOT_READY: 2}


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a category is what it is: the failed item, its severity, and the words residents see."""

    item_id: str
    severity: Severity
    uk: str
    en: str

    def public(self) -> dict[str, str]:
        return {"item_id": self.item_id, "severity": self.severity.value,
                "uk": self.uk, "en": self.en}


@dataclass(frozen=True, slots=True)
class Judgement:
    category: Readiness | None
    reasons: tuple[Reason, ...]
    failed: tuple[str, ...]  # item ids that failed, in checklist order
    ghost: GhostReason | None = None
    rule_version: str = ""
    checklist_version: str = ""


AnswerValue = str | float | int  # "pass" / "fail" / "na", or a measured number


def answer_problems(checklist: Checklist, answers: Mapping[str, Any], *, tier: Tier,
                    kind: str) -> list[str]:
    """Every way these answers do not fit the checklist (empty: they fit). Precise, for 422s."""
    problems = []
    asked = {i.id for i in checklist.for_tier(tier, kind)}
    for item_id, value in answers.items():
        item = checklist.item(item_id)
        if item is None:
            problems.append(f"answers.{item_id}: no such item in checklist {checklist.version}")
        elif item_id not in asked:
            problems.append(f"answers.{item_id}: not on the {tier.value} checklist for "
                            f"a {kind} shelter")
        elif item.answer is AnswerType.NUMBER:
            if (isinstance(value, bool) or not isinstance(value, int | float)
                    or value < 0 or value != value):
                if value != Mark.NA.value:
                    problems.append(f"answers.{item_id}: a number of {item.unit} >= 0, "
                                    f"or \"na\", got {value!r}")
        elif value not in {m.value for m in Mark}:
            problems.append(f"answers.{item_id}: pass, fail or na, got {value!r}")
    missing = sorted(asked - set(answers))
    if missing and tier is Tier.FULL and not _is_ghost_finding(checklist, answers):
        problems.append(f"answers: items not answered: {', '.join(missing)}")
    return problems


def _is_ghost_finding(checklist: Checklist, answers: Mapping[str, Any]) -> bool:
    """A "no shelter here" finding ends the audit: the rest of the checklist has nothing to see."""
    return any(answers.get(i.id) == Mark.FAIL.value for i in checklist.items if i.ghost)


def fails(item: Item, value: Any, capacity: int | None) -> bool:
    """Whether this answer is a fail of the item."""
    if item.answer is AnswerType.PASS_FAIL:
        return bool(value == Mark.FAIL.value)
    if item.min_per_person is None or capacity is None or not isinstance(value, int | float):
        return False  # recorded only, or not judgeable without a capacity
    return float(value) < capacity * item.min_per_person


def judge(checklist: Checklist, rule: CategoryRule, answers: Mapping[str, Any], *,
          kind: str, capacity: int | None, full: bool = True) -> Judgement:
    """The category these answers earn under `rule`, with every failed item as a reason.

    A quick-check alone (`full=False`) can find a shelter not ready or limited, but cannot call it
    ready: six items are not an audit, so its category is None when nothing it covers failed.
    """
    failed = [item for item in checklist.items
              if item.applies_to(kind) and item.id in answers
              and fails(item, answers[item.id], capacity)]
    ghost = next((i.ghost for i in failed if i.ghost), None)
    category = Readiness.READY
    for item in failed:
        found = rule.on_fail[item.severity]
        if ORDER[found] > ORDER[category]:
            category = found
    minors = sum(1 for i in failed if i.severity is Severity.MINOR)
    if (rule.minor_fails_limit is not None and minors >= rule.minor_fails_limit
            and category is Readiness.READY):
        category = Readiness.LIMITED
    if ghost is not None:
        category = Readiness.NOT_READY
    order = {Severity.CRITICAL: 0, Severity.MAJOR: 1, Severity.MINOR: 2}
    reasons = tuple(Reason(i.id, i.severity, i.fail_uk, i.fail_en)
                    for i in sorted(failed, key=lambda i: order[i.severity]))
    result: Readiness | None = category
    if not full and not failed:
        result = None
    elif not full and category is Readiness.READY:
        result = None  # only minor fails on a quick-check: still not an audit
    return Judgement(category=result, reasons=reasons, failed=tuple(i.id for i in failed),
                     ghost=ghost, rule_version=rule.version,
                     checklist_version=checklist.version)


@dataclass(slots=True)
class ShelterRecord:
    """What the audits say about one shelter so far: the fold of its audit facts.

    `answers` holds the newest answer per item: a full audit replaces them all, a later
    quick-check its own items, a closed deficiency marks its item passed.
    """

    answers: dict[str, Any] = field(default_factory=dict)
    full_seen: bool = False
    checklist_version: str = ""
    audited_at: str | None = None
    last_audit_id: int | None = None


def after_audit(record: ShelterRecord, *, audit_id: int, tier: Tier,
                answers: Mapping[str, Any], checklist_version: str,
                at: str) -> ShelterRecord:
    """The record once this audit is taken in."""
    if tier is Tier.FULL:
        merged = dict(answers)
    else:
        merged = {**record.answers, **answers}
    return ShelterRecord(answers=merged, full_seen=record.full_seen or tier is Tier.FULL,
                         checklist_version=(checklist_version if tier is Tier.FULL
                                            or not record.checklist_version
                                            else record.checklist_version),
                         audited_at=at, last_audit_id=audit_id)


def after_fix(record: ShelterRecord, item_id: str) -> ShelterRecord:
    """The record once a deficiency of this item is closed with a photo of the fix."""
    return ShelterRecord(answers={**record.answers, item_id: Mark.PASS.value},
                         full_seen=record.full_seen, checklist_version=record.checklist_version,
                         audited_at=record.audited_at, last_audit_id=record.last_audit_id)


def current(checklist: Checklist, rule: CategoryRule, record: ShelterRecord, *, kind: str,
            capacity: int | None) -> Judgement:
    """The shelter's readiness now, from its record."""
    if not record.answers:
        return Judgement(None, (), (), rule_version=rule.version,
                         checklist_version=checklist.version)
    return judge(checklist, rule, record.answers, kind=kind, capacity=capacity,
                 full=record.full_seen)


def readiness_json(judgement: Judgement, audited_at: str | None) -> dict[str, Any]:
    """The `readiness` property every public shelter carries (the issue's contract)."""
    return {"category": judgement.category.value if judgement.category else None,
            "reasons": [r.public() for r in judgement.reasons],
            "audited_at": audited_at, "rule_version": judgement.rule_version or None,
            "checklist_version": judgement.checklist_version or None}


UNAUDITED: Mapping[str, Any] = {"category": None, "reasons": [], "audited_at": None}
KEY_ORDER = ("category", "reasons", "audited_at", "rule_version", "checklist_version")
REASON_ORDER = ("item_id", "severity", "uk", "en")


def in_order(readiness: Mapping[str, Any] | None) -> dict[str, Any]:
    """The `readiness` property with its keys in one order, however it was stored (a fact's
    canonical JSON sorts them): the pack's bytes, and so its ETag, depend on content only."""
    if not readiness:
        return dict(UNAUDITED)
    out = {k: readiness[k] for k in KEY_ORDER if k in readiness}
    out["reasons"] = [{k: r[k] for k in REASON_ORDER if k in r}
                      for r in readiness.get("reasons") or ()]
    return out


def reason_params(readiness: Mapping[str, Any] | None,
                  limit: int = 3) -> dict[str, str] | None:
    """The parameters of a result's `readiness` reason ("не готове (немає води, …)"), or None
    when there is nothing to say (never audited, or ready). The items are worded by the
    checklist, which is data in both languages; the category by the message catalogue."""
    if not readiness or not readiness.get("category"):
        return None
    category = Readiness(readiness["category"])
    if category is Readiness.READY:
        return None
    reasons: Sequence[Mapping[str, Any]] = readiness.get("reasons") or ()
    shown = [r for r in reasons if r.get("severity") != Severity.MINOR.value][:limit]
    return {"category": category.value,
            "items_uk": ", ".join(str(r["uk"]) for r in shown),
            "items_en": ", ".join(str(r["en"]) for r in shown)}


def deficiency_items(checklist: Checklist, judgement: Judgement) -> Iterable[Reason]:
    """The failed items that become deficiencies: every fail but a ghost finding (there is
    nothing for an owner to fix where there is no shelter)."""
    for reason in judgement.reasons:
        item = checklist.item(reason.item_id)
        if item is not None and item.ghost is None:
            yield reason
