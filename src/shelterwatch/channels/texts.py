"""What the bot and the SMS service say, in Ukrainian and English. Only what happened: a case
update says what the record shows (a message delivered, a task taken), never what we hope."""

from __future__ import annotations

from typing import Any

from shelterwatch.messages import status as wording
from shelterwatch.messages.catalogue import Renderer
from shelterwatch.reports.service import LEAVE

# Report buttons: what the resident taps → the report kind sent to the intake.
BUTTONS: list[tuple[str, str, str]] = [
    ("locked", "🔒 Зачинено", "🔒 Locked"),
    ("refused", "⛔ Не пускають", "⛔ Refused entry"),
    ("full", "👥 Переповнене", "👥 Full"),
    ("unfit", "⚠️ Непридатне", "⚠️ Unfit"),
    ("missing", "❓ Укриття немає", "❓ Not here"),
]

T: dict[str, tuple[str, str]] = {
    "welcome": ("Надішліть свою геолокацію (📎 → Геопозиція), і я покажу три найближчі "
                "укриття, куди варто йти зараз. /subscribe — сповіщення про тривогу.",
                "Send your location (📎 → Location) and I will show the three nearest shelters "
                "to go to now. /subscribe — alert notifications."),
    "share": ("📍 Надіслати геолокацію", "📍 Send my location"),
    "none": ("Поруч не знайдено укриттів у реєстрі.", "No registered shelter found nearby."),
    "subscribe_help": ("Щоб отримувати сповіщення про тривогу тут, надішліть геолокацію й "
                       "натисніть «🔔 Тривоги тут», або /subscribe <номер району>.",
                       "To hear when an alert starts and ends here, send your location and tap "
                       "\"🔔 Alerts here\", or /subscribe <area number>."),
    "subscribe_button": ("🔔 Тривоги тут", "🔔 Alerts here"),
    "unsubscribed": ("Сповіщення про тривоги вимкнено.", "Alert notifications are off."),
    "no_area": ("Такого району немає.", "There is no such area."),
    "report_failed": ("Не вдалося прийняти повідомлення: {detail}",
                      "The report could not be taken: {detail}"),
    "no_shelter": ("Укриття №{id} немає в реєстрі.", "Shelter {id} is not in the registry."),
}


def t(key: str, lang: str, **values: Any) -> str:
    uk, en = T[key]
    return (en if lang == "en" else uk).format(**values)


def language(code: str | None) -> str:
    """The user's language as Telegram reports it: English for English speakers, Ukrainian for
    Ukrainian (and the neighbouring languages most residents also read), English otherwise."""
    code = (code or "").lower().split("-")[0]
    return "uk" if code in ("", "uk", "ru", "be") else "en"


def status_text(status: str, lang: str) -> str:
    """A status's headline, the same words the page and the API use (the catalogue's)."""
    return wording.headline(status, lang)


def minutes(walk_s: float) -> str:
    return str(max(1, round(walk_s / 60)))


def reachable_text(reachable: bool | None, lang: str) -> str:
    if reachable is None:
        return ""
    if lang == "en":
        return " — in time" if reachable else " — NOT in time before the threat arrives"
    return " — встигнете" if reachable else " — НЕ встигнете до загрози"


def shelter_card(result: dict[str, Any], rank: int, lang: str) -> str:
    """One shelter of a nearest answer: name, address, status, walk, reachable, why."""
    props = result["shelter"]["properties"]
    walk = minutes(result["walk_s"])
    walk_text = f"{walk} min walk" if lang == "en" else f"{walk} хв пішки"
    return (f"{rank}. {props.get('name') or props.get('address')}\n{props.get('address')}\n"
            f"{status_text(result['status'], lang)} · {walk_text}"
            f"{reachable_text(result['reachable_in_time'], lang)}\n"
            f"{result['why']['en' if lang == 'en' else 'uk']}\n"
            f"#{props['id']}")


def alert_header(alert: dict[str, Any] | None, lang: str) -> str:
    if not alert:
        return "Тривоги зараз немає." if lang == "uk" else "No alert now."
    seconds = alert.get("warning_s")
    if lang == "en":
        return "⚠️ AIR-RAID ALERT" + (f": about {seconds} s of warning." if seconds else ".")
    return "⚠️ ПОВІТРЯНА ТРИВОГА" + (f": приблизно {seconds} с на укриття." if seconds else ".")


def go_instead(result: dict[str, Any] | None, lang: str, *, short: bool = False) -> str:
    """"Don't wait at the door: go to X" with X written out (a chat or SMS has no map)."""
    if result is None:
        return LEAVE_NO_ALTERNATIVE[1 if lang == "en" else 0]
    props = result["shelter"]["properties"]
    address = props.get("address") or ""
    if short:
        address = address.split(",", 1)[1].strip() if address.startswith("м.") else address
    walk = minutes(result["walk_s"])
    if lang == "en":
        return (f"Don't wait at the door: go to {address} #{props['id']} "
                f"({status_text(result['status'], lang)}, {walk} min on foot).")
    return (f"Не чекайте біля дверей: ідіть до {address} #{props['id']} "
            f"({status_text(result['status'], lang)}, {walk} хв пішки).")


def redirect(shelter_id: int, instead: dict[str, Any] | None, lang: str) -> str:
    """For someone on the way to a shelter that was just reported locked."""
    if lang == "en":
        head = f"⚠️ Shelter #{shelter_id}, which you were shown, was just reported locked."
    else:
        head = f"⚠️ Укриття #{shelter_id}, яке вам показали, щойно повідомили як зачинене."
    return f"{head}\n{go_instead(instead, lang)}"


LEAVE_NO_ALTERNATIVE = ("Не чекайте біля дверей: шукайте інше укриття.",
                        "Don't wait at the door: look for another shelter.")


def next_steps(receipt: dict[str, Any], lang: str, instead: dict[str, Any] | None, *,
               short: bool = False) -> str:
    """The receipt's next steps as the web page words them, the map's pointer written out."""
    steps: str = receipt["next_steps"]["en" if lang == "en" else "uk"]
    leave = LEAVE[1 if lang == "en" else 0]
    if leave in steps:
        steps = steps.replace(leave, go_instead(instead, lang, short=short))
    return steps


def receipt_text(receipt: dict[str, Any], lang: str,
                 instead: dict[str, Any] | None = None) -> str:
    """The same receipt the web page shows: tracking id and what happens next."""
    tid = receipt["tracking_id"]
    head = f"Receipt {tid}" if lang == "en" else f"Квитанція {tid}"
    return f"{head}\n{next_steps(receipt, lang, instead)}"


def case_update(kind: str, lang: str, *, tracking_id: str, detail: str = "") -> str:
    """A case's news for the people who reported it, saying only what the record shows."""
    key = f"case.{kind}"
    if kind == "patrol_on_way" and detail:
        key = "case.patrol_on_way_eta"
    return Renderer(lang)(key, {"tracking_id": tracking_id, "detail": detail})


def alert_news(started: bool, area_name: str, lang: str) -> str:
    return Renderer(lang)("alert_news.started" if started else "alert_news.ended",
                          {"area": area_name})
