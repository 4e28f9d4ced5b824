"""The field's own tools: the checklist as an XLSForm that ODK Collect and KoboToolbox load, and
their submissions (Kobo's JSON export, ODK Central's CSV export, with photo attachments) read back
into the same audit submissions the API takes.

Question names are the checklist's item ids, inside one group per checklist group; each
pass/fail item has a photo question `<id>_photo` that is required when the answer is "fail", so
the rule "a photo for every fail" holds on the phone that has no network too.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from openpyxl import Workbook

from shelterwatch.audits import photos
from shelterwatch.audits.service import Submission
from shelterwatch.errors import InvalidInput
from shelterwatch.rules.readiness import ALL_KINDS, AnswerType, Checklist, Tier
from shelterwatch.vocabulary import ShelterKind

LANGS = (("Ukrainian (uk)", "uk"), ("English (en)", "en"))
KIND_WORDS = {
    ShelterKind.SHELTER: ("сховище", "blast shelter"),
    ShelterKind.ANTI_RADIATION: ("протирадіаційне укриття", "anti-radiation shelter"),
    ShelterKind.SIMPLE: ("найпростіше укриття", "simplest shelter"),
    ShelterKind.DUAL_USE: ("споруда подвійного призначення", "dual-use structure"),
    ShelterKind.METRO: ("метро", "metro"),
    ShelterKind.PARKING: ("підземний паркінг", "underground parking"),
    ShelterKind.TEMPORARY: ("тимчасове укриття", "temporary shelter"),
}


def form_id(checklist: Checklist) -> str:
    return "shelterwatch_readiness_" + checklist.version.replace(".", "_")


def _relevant(item_kinds: frozenset[str], quick: bool) -> str:
    parts = []
    if ALL_KINDS not in item_kinds:
        parts.append("(" + " or ".join(f"${{shelter_kind}} = '{k}'"
                                       for k in sorted(item_kinds)) + ")")
    if not quick:
        parts.append("${tier} = 'full'")
    return " and ".join(parts)


def xlsform_rows(checklist: Checklist) -> tuple[list[list[Any]], list[list[Any]], list[list[Any]]]:
    """The survey, choices and settings sheets, as rows with their header first."""
    labels = [f"label::{name}" for name, _ in LANGS]
    survey: list[list[Any]] = [["type", "name", *labels, "required", "relevant", "constraint",
                                "parameters", "appearance"]]

    def row(kind: str, name: str, uk: str, en: str, required: str = "", relevant: str = "",
            constraint: str = "", parameters: str = "") -> None:
        survey.append([kind, name, uk, en, required, relevant, constraint, parameters, ""])

    row("start", "start", "", "")
    row("end", "end", "", "")
    row("integer", "shelter_id", "Номер укриття в реєстрі", "Shelter id in the registry", "yes",
        constraint=". > 0")
    row("select_one tier", "tier", "Вид перевірки", "Kind of check", "yes")
    row("select_one kind", "shelter_kind", "Тип укриття", "Kind of shelter", "yes")
    row("geopoint", "location", "Де ви стоїте", "Where you stand", "yes")
    group = None
    # One group each, in order of first appearance (a group may not be opened twice).
    firsts = {g: n for n, g in reversed(list(enumerate(i.group for i in checklist.items)))}
    for item in sorted(checklist.items, key=lambda i: firsts[i.group]):
        if item.group != group:
            if group is not None:
                survey.append(["end_group", "", "", "", "", "", "", "", ""])
            group = item.group
            # "g_" keeps a group's name apart from its items' ("ventilation" is both).
            survey.append(["begin_group", f"g_{group}", group, group, "", "", "", "", ""])
        relevant = _relevant(item.kinds, item.quick)
        if item.answer is AnswerType.NUMBER:
            row("decimal", item.id, item.uk, item.en, "yes", relevant, ". >= 0")
            continue
        row("select_one pfn", item.id, item.uk, item.en, "yes", relevant)
        photo_when = f"${{{item.id}}} = 'fail'"
        row("image", f"{item.id}_photo", "Фото: " + item.fail_uk, "Photo: " + item.fail_en,
            "yes", f"{relevant} and {photo_when}" if relevant else photo_when,
            parameters="max-pixels=1600")
    survey.append(["end_group", "", "", "", "", "", "", "", ""])
    row("text", "note", "Примітка", "Note")
    choices: list[list[Any]] = [["list_name", "name", *labels]]
    choices += [["pfn", "pass", "так / норма", "pass"], ["pfn", "fail", "ні / порушення", "fail"],
                ["pfn", "na", "не стосується", "not applicable"]]
    choices += [["tier", "full", "повний огляд (~20 хв)", "full audit (~20 min)"],
                ["tier", "quick", "швидка перевірка дверей (<1 хв)", "door quick-check (<1 min)"]]
    choices += [["kind", k.value, *KIND_WORDS[k]] for k in ShelterKind]
    settings: list[list[Any]] = [["form_title", "form_id", "version", "default_language"],
                                 [f"Shelter readiness {checklist.version}", form_id(checklist),
                                  checklist.version.replace(".", ""), "Ukrainian (uk)"]]
    return survey, choices, settings


def write_xlsform(checklist: Checklist, out: Path) -> Path:
    """Write the checklist as an XLSForm workbook (`survey`, `choices`, `settings`)."""
    book = Workbook()
    sheets = zip(("survey", "choices", "settings"), xlsform_rows(checklist), strict=True)
    for i, (name, rows) in enumerate(sheets):
        sheet = book.active if i == 0 else book.create_sheet()
        assert sheet is not None
        sheet.title = name
        for r in rows:
            sheet.append(r)
    book.save(out)
    return out


@dataclass(frozen=True, slots=True)
class Imported:
    """One submission read from a tool's export, ready for `audits.service.record`."""

    submission: Submission
    where: str  # "submission 3 (uuid:…)", for messages


def _flat(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Group paths dropped: "access/open_on_arrival" (Kobo) and "access-open_on_arrival" (ODK
    Central CSV) both become "open_on_arrival"."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = key.rsplit("/", 1)[-1]
        if "-" in name and not name.startswith("location-"):
            name = name.rsplit("-", 1)[-1]
        out[name] = value
    return out


def _location(flat: Mapping[str, Any]) -> tuple[float | None, float | None, float | None]:
    text = flat.get("location")
    if isinstance(text, str) and text.strip():
        parts = [float(p) for p in text.split()]  # "lat lon altitude accuracy"
        return parts[0], parts[1], parts[3] if len(parts) > 3 else None
    lat, lon = flat.get("location-Latitude"), flat.get("location-Longitude")
    if lat not in (None, "") and lon not in (None, ""):
        accuracy = flat.get("location-Accuracy")
        return float(lat), float(lon), float(accuracy) if accuracy not in (None, "") else None
    return None, None, None


def _answers(checklist: Checklist, flat: Mapping[str, Any]) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for item in checklist.items:
        value = flat.get(item.id)
        if value in (None, ""):
            continue  # not relevant on the phone (another kind, or a quick-check)
        if item.answer is AnswerType.NUMBER and value != "na":
            try:
                answers[item.id] = float(value)
            except (TypeError, ValueError):
                answers[item.id] = value  # refused with the item's name by the rule
        else:
            answers[item.id] = value
    return answers


def submission_of(checklist: Checklist, raw: Mapping[str, Any], *, source: str,
                  photo_dir: Path | None, max_bytes: int, position: int) -> Imported:
    """One exported submission as an audit submission; ValueError names what is wrong."""
    flat = _flat(raw)
    ident = str(flat.get("instanceID") or raw.get("_uuid") or flat.get("KEY") or "")
    where = f"submission {position}" + (f" ({ident})" if ident else "")
    if not ident:
        raise ValueError(f"{where}: no meta/instanceID, so it could not be imported only once")
    try:
        shelter_id = int(str(flat.get("shelter_id", "")).strip())
    except ValueError:
        raise ValueError(f"{where}: shelter_id is not a number") from None
    answers = _answers(checklist, flat)
    pictures = []
    for item in checklist.items:
        name = flat.get(f"{item.id}_photo")
        if not name:
            continue
        if photo_dir is None:
            raise ValueError(f"{where}: photo {name} for {item.id}, but no --photos directory")
        path = photo_dir / Path(str(name)).name
        if not path.is_file():
            raise ValueError(f"{where}: photo {path.name} for {item.id} is not in {photo_dir}")
        pictures.append((item.id, photos.check(path.read_bytes(), field=f"{where} {item.id}",
                                               max_bytes=max_bytes)))
    lat, lon, accuracy = _location(flat)
    started = flat.get("start")
    return Imported(Submission(
        shelter_id=shelter_id, tier=Tier(flat.get("tier") or "full"), answers=answers,
        photos=pictures, lat=lat, lon=lon, accuracy_m=accuracy,
        started_at=datetime.fromisoformat(started) if started else None,
        note=flat.get("note") or None, source=source, external_id=ident), where)


def read_export(path: Path) -> tuple[str, list[dict[str, Any]]]:
    """("kobo", rows) from a Kobo JSON export (a list, or the API's {"results": […]}), or
    ("odk", rows) from an ODK Central CSV export."""
    text = path.read_bytes()
    if path.suffix.lower() == ".csv":
        return "odk", list(csv.DictReader(io.StringIO(text.decode("utf-8-sig"))))
    data = orjson.loads(text)
    rows = data.get("results") if isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise ValueError(f"{path}: neither a list of submissions nor {{\"results\": [...]}}")
    return "kobo", rows


def submissions(checklist: Checklist, path: Path, *, photo_dir: Path | None,
                max_bytes: int) -> Iterator[Imported | ValueError]:
    """Each submission of an export, or the reason it cannot be read."""
    source, rows = read_export(path)
    for n, raw in enumerate(rows, 1):
        try:
            yield submission_of(checklist, raw, source=source, photo_dir=photo_dir,
                                max_bytes=max_bytes, position=n)
        except (ValueError, InvalidInput) as e:
            yield ValueError(str(e))
