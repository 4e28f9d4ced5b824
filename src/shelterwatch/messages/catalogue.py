"""The message catalogue: codes and parameters in, Ukrainian or English sentences out.

The rules and services say *what* happened as codes with parameters; only the edge (an answer, a
notification, a page) turns them into words, through this one file. Rewording a sentence here
changes what people read and nothing else: no fact, no status identity, no decision.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any, Literal
from zoneinfo import ZoneInfo

import orjson

Lang = Literal["uk", "en"]
LANGS: tuple[Lang, ...] = ("uk", "en")
DEFAULT_ZONE = "Europe/Kyiv"
_PLACEHOLDER = re.compile(r"\{(\w+)(?::([\w.]+))?\}")


@cache
def data() -> dict[str, Any]:
    """The catalogue as stored (read once)."""
    raw = resources.files("shelterwatch.messages").joinpath("catalogue.json").read_bytes()
    loaded: dict[str, Any] = orjson.loads(raw)
    return loaded


def plural_category(lang: str, n: int) -> str:
    """CLDR plural category of a whole number: Ukrainian has one / few / many, English one /
    other (1 мешканець, 2 мешканці, 5 мешканців, 21 мешканець)."""
    if lang == "uk":
        if n % 10 == 1 and n % 100 != 11:
            return "one"
        if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            return "few"
        return "many"
    return "one" if n == 1 else "other"


def term(section: str, key: str, lang: str) -> str:
    """One named term (a status headline, an observation kind, a role); the key itself when the
    catalogue has no such term, so an unknown value still reads as something."""
    entry = data()["term"].get(section, {}).get(str(key))
    return str(entry[lang]) if entry else str(key)


def terms(section: str) -> dict[str, dict[str, str]]:
    """A whole section of terms, as the pages read it."""
    return {k: dict(v) for k, v in data()["term"][section].items()}


def words(section: str, lang: str) -> dict[str, str]:
    """Every message of a section ("dossier.title" → "title") in one language, as a page's
    labels read them; each a plain word or phrase with no placeholder."""
    prefix = section + "."
    return {key[len(prefix):]: str(text[lang]) for key, text in data()["message"].items()
            if key.startswith(prefix)}


def plural(name: str, n: int, lang: str) -> str:
    forms = data()["plural"][name][lang]
    form = forms.get(plural_category(lang, n)) or forms["other"]
    return str(form).replace("{n}", str(n))


class Renderer:
    """Words messages in one language, times in one zone relative to a reference moment (a time
    on the reference day is shown as "14:05", another day as "01.06 14:05")."""

    def __init__(self, lang: str, *, zone: str = DEFAULT_ZONE,
                 reference: datetime | None = None) -> None:
        self.lang = lang
        self.zone = ZoneInfo(zone)
        self.today = reference.astimezone(self.zone).date() if reference else None

    def clock(self, at: datetime | str) -> str:
        moment = datetime.fromisoformat(at) if isinstance(at, str) else at
        local = moment.astimezone(self.zone)
        if self.today is None or local.date() == self.today:
            return local.strftime("%H:%M")
        return local.strftime("%d.%m %H:%M")

    def _value(self, value: Any, how: str | None) -> str:
        if how is None:
            return str(value)
        if how == "clock":
            return self.clock(value)
        if how == "paren":
            return f" ({value})" if value else ""
        family, _, name = how.partition(".")
        if family == "term":
            return term(name, str(value), self.lang)
        if family == "plural":
            return plural(name, int(value), self.lang)
        raise KeyError(f"unknown placeholder form {how!r}")

    def __call__(self, key: str, params: Mapping[str, Any] | None = None) -> str:
        """The message `key` worded with `params`; a missing parameter is an error (KeyError)."""
        given = params or {}
        value = self._value
        return "".join([literal if name is None else literal + value(given[name], how)
                        for literal, name, how in _parts(key, self.lang)])


@cache
def _parts(key: str, lang: str) -> tuple[tuple[str, str | None, str | None], ...]:
    """A message's template split once into (text, placeholder, form) pieces: a receipt words a
    dozen messages, and matching each template's placeholders anew was most of their cost."""
    template = str(data()["message"][key][lang])
    pieces: list[tuple[str, str | None, str | None]] = []
    start = 0
    for match in _PLACEHOLDER.finditer(template):
        pieces.append((template[start:match.start()], match.group(1), match.group(2)))
        start = match.end()
    pieces.append((template[start:], None, None))
    return tuple(pieces)


def both(key: str, params: Mapping[str, Any] | None = None, **context: Any) -> dict[str, str]:
    """The message in every language, as answers carry it: {"uk": …, "en": …}."""
    return {lang: Renderer(lang, **context)(key, params) for lang in LANGS}
