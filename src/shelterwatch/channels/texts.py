"""What the bot and the SMS service say, in Ukrainian and English. Only what happened: a case
update says what the record shows (a message delivered, a task taken), never what we hope."""

from __future__ import annotations

from typing import Any

from shelterwatch.messages import status as wording
from shelterwatch.messages.catalogue import Renderer

# The report buttons, in the order shown: each sends its kind to the intake.
BUTTON_KINDS: tuple[str, ...] = ("locked", "refused", "full", "unfit", "missing")


def buttons(lang: str) -> list[tuple[str, str]]:
    """(kind, label) for each report button, labelled from the catalogue."""
    words = Renderer(lang)
    return [(kind, words(f"bot.button.{kind}")) for kind in BUTTON_KINDS]


def t(key: str, lang: str, **values: Any) -> str:
    """One of the bot's replies (`bot.<key>` in the catalogue), worded with `values`."""
    return Renderer(lang)(f"bot.{key}", values)


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
    return t("in_time" if reachable else "not_in_time", lang)


def shelter_card(result: dict[str, Any], rank: int, lang: str) -> str:
    """One shelter of a nearest answer: name, address, status, walk, reachable, why."""
    props = result["shelter"]["properties"]
    walk_text = t("walk", lang, minutes=minutes(result["walk_s"]))
    return (f"{rank}. {props.get('name') or props.get('address')}\n{props.get('address')}\n"
            f"{status_text(result['status'], lang)} · {walk_text}"
            f"{reachable_text(result['reachable_in_time'], lang)}\n"
            f"{result['why']['en' if lang == 'en' else 'uk']}\n"
            f"#{props['id']}")


def alert_header(alert: dict[str, Any] | None, lang: str) -> str:
    if not alert:
        return t("no_alert", lang)
    seconds = alert.get("warning_s")
    return t("alert_warning", lang, seconds=seconds) if seconds else t("alert", lang)


def go_instead(result: dict[str, Any] | None, lang: str, *, short: bool = False) -> str:
    """"Don't wait at the door: go to X" with X written out (a chat or SMS has no map)."""
    if result is None:
        return t("look_elsewhere", lang)
    props = result["shelter"]["properties"]
    address = props.get("address") or ""
    if short:
        address = address.split(",", 1)[1].strip() if address.startswith("м.") else address
    return t("go_instead", lang, address=address, id=props["id"],
             status=status_text(result["status"], lang), minutes=minutes(result["walk_s"]))


def redirect(shelter_id: int, instead: dict[str, Any] | None, lang: str) -> str:
    """For someone on the way to a shelter that was just reported locked."""
    return f"{t('redirect', lang, id=shelter_id)}\n{go_instead(instead, lang)}"


def next_steps(receipt: dict[str, Any], lang: str, instead: dict[str, Any] | None, *,
               short: bool = False) -> str:
    """The receipt's next steps as the web page words them, the map's pointer written out."""
    steps: str = receipt["next_steps"]["en" if lang == "en" else "uk"]
    leave = Renderer(lang)("receipt.leave")
    if leave in steps:
        steps = steps.replace(leave, go_instead(instead, lang, short=short))
    return steps


def receipt_text(receipt: dict[str, Any], lang: str,
                 instead: dict[str, Any] | None = None) -> str:
    """The same receipt the web page shows: tracking id and what happens next."""
    head = t("receipt", lang, tracking_id=receipt["tracking_id"])
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


def subscribed(area_name: str, lang: str) -> str:
    """The bot's answer to /subscribe: which area's alerts the chat will hear of."""
    return t("subscribed", lang, area=area_name)
