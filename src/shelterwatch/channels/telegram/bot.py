"""What the bot answers, as Bot API calls to queue: built from plain data, sending nothing.

A shared location gets the same three shelters `/v1/nearest` ranks, each as a map pin
(sendLocation) and a card (status, walking time, reachable in time, why) with report buttons.
A tap on a button is a report like the web page's, so it gets the same receipt and tracking id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shelterwatch.channels import texts

# The buttons' report kinds → the intake's kind (a refusal at the door is a locked door to the
# person outside it; the note says which) and the reason the intake needs for `unfit`.
REPORT_KINDS: dict[str, tuple[str, str | None, str | None]] = {
    "locked": ("locked", None, None),
    "refused": ("locked", None, "refused entry (Telegram button)"),
    "full": ("full", None, None),
    "unfit": ("unfit", "not stated (Telegram button)", None),
    "missing": ("missing", None, None),
}


@dataclass(frozen=True, slots=True)
class Call:
    """One Bot API call to one chat."""

    method: str
    params: dict[str, Any] = field(default_factory=dict)

    def data(self) -> dict[str, Any]:
        return {"telegram": {"method": self.method, **self.params}}

    @property
    def text(self) -> str:
        return str(self.params.get("text", ""))


@dataclass(frozen=True, slots=True)
class Incoming:
    """The part of an Update the bot acts on."""

    update_id: int
    chat_id: str
    lang: str
    location: tuple[float, float] | None = None
    text: str = ""
    callback_id: str = ""
    callback_data: str = ""


def read(update: Any) -> Incoming | None:
    """The message, location or button tap in an Update; None for anything else (edits, joins).

    Shapes as the Bot API documents them: `message.location.{latitude,longitude}`,
    `message.text`, `callback_query.{id,data,from,message.chat}`.
    """
    if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
        raise ValueError("an Update is an object with an integer update_id")
    update_id = update["update_id"]
    message = update.get("message")
    if isinstance(message, dict) and isinstance(message.get("chat"), dict):
        chat_id = str(message["chat"]["id"])
        lang = texts.language((message.get("from") or {}).get("language_code"))
        location = message.get("location")
        if isinstance(location, dict):
            return Incoming(update_id, chat_id, lang,
                            location=(float(location["latitude"]),
                                      float(location["longitude"])))
        return Incoming(update_id, chat_id, lang, text=str(message.get("text") or ""))
    query = update.get("callback_query")
    if isinstance(query, dict) and isinstance(query.get("message"), dict):
        chat_id = str(query["message"]["chat"]["id"])
        lang = texts.language((query.get("from") or {}).get("language_code"))
        return Incoming(update_id, chat_id, lang, callback_id=str(query["id"]),
                        callback_data=str(query.get("data") or ""))
    return None


def report_keyboard(shelter_id: int, lang: str) -> dict[str, Any]:
    """Inline buttons under a shelter card; callback data `r:<shelter>:<kind>` (≤ 64 bytes)."""
    buttons = [{"text": label, "callback_data": f"r:{shelter_id}:{kind}"}
               for kind, label in texts.buttons(lang)]
    return {"inline_keyboard": [buttons[:2], buttons[2:]]}


def nearest_calls(answer: dict[str, Any], lang: str) -> list[Call]:
    """A pin and a card for each shelter of a `/v1/nearest` answer, best first."""
    results = answer.get("results") or []
    if not results:
        return [Call("sendMessage", {"text": texts.t("none", lang)})]
    calls: list[Call] = []
    for rank, result in enumerate(results, start=1):
        lon, lat = result["shelter"]["geometry"]["coordinates"]
        shelter_id = int(result["shelter"]["properties"]["id"])
        card = texts.shelter_card(result, rank, lang)
        if rank == 1:
            card = f"{texts.alert_header(answer.get('alert'), lang)}\n\n{card}"
        calls.append(Call("sendLocation", {"latitude": lat, "longitude": lon}))
        keyboard = report_keyboard(shelter_id, lang)
        if rank == len(results):
            area = result["shelter"]["properties"].get("area_id")
            if area:
                keyboard["inline_keyboard"].append([{
                    "text": texts.t("subscribe_button", lang), "callback_data": f"s:{area}"}])
        calls.append(Call("sendMessage", {"text": card, "reply_markup": keyboard}))
    return calls


def welcome_calls(lang: str) -> list[Call]:
    keyboard = {"keyboard": [[{"text": texts.t("share", lang), "request_location": True}]],
                "resize_keyboard": True}
    return [Call("sendMessage", {"text": texts.t("welcome", lang), "reply_markup": keyboard})]


def answer_callback(callback_id: str, text: str) -> Call:
    """Stops the button's spinner; the toast shows `text` (at most 200 characters)."""
    return Call("answerCallbackQuery", {"callback_query_id": callback_id, "text": text[:200]})


def parse_tap(data: str) -> tuple[str, int, str] | tuple[str, str] | None:
    """`r:<shelter>:<kind>` → ("r", shelter, kind); `s:<area>` → ("s", area); else None."""
    parts = data.split(":")
    if len(parts) == 3 and parts[0] == "r" and parts[1].isdigit() and parts[2] in REPORT_KINDS:
        return "r", int(parts[1]), parts[2]
    if len(parts) == 2 and parts[0] == "s" and parts[1]:
        return "s", parts[1]
    return None
