"""A page's own words written into its HTML from the catalogue, so the page reads right before
its scripts run (and without them), and the template keeps no copy of a sentence.

An element marked `data-i18n="key"` gets the catalogue's `page.key` as its text,
`data-i18n-label` its aria-label and `data-i18n-placeholder` its placeholder; `i18n.js` rewrites
the same elements when the reader switches language.
"""

from __future__ import annotations

import re
from functools import cache
from html import escape

from shelterwatch.messages.catalogue import LANGS, Renderer

_TEXT = re.compile(r'(<[^<>]*\bdata-i18n="(\w+)"[^<>]*>)[^<]*(?=<)')
_ATTRIBUTE = re.compile(r'<[^<>]*\bdata-i18n-(label|placeholder)="(\w+)"[^<>]*>')
_TARGET = {"label": "aria-label", "placeholder": "placeholder"}


def _attribute(tag: str, which: str, words: str) -> str:
    name = _TARGET[which]
    value = f'{name}="{escape(words, quote=True)}"'
    existing = rf'(?<![\w-]){name}="[^"]*"'  # not the data-i18n-placeholder marker itself
    if re.search(existing, tag):
        return re.sub(existing, lambda _: value, tag)
    return tag.replace(f'data-i18n-{which}=', f'{value} data-i18n-{which}=', 1)


@cache
def worded(template: str, lang: str = "uk") -> str:
    """The template with every marked element worded in `lang` (a `$` in the words doubled, for
    the string.Template the page is then filled in by)."""
    render = Renderer(lang)

    def words(key: str) -> str:
        return render(key).replace("$", "$$")

    text = _TEXT.sub(lambda m: m.group(1) + escape(words(f"page.{m.group(2)}"), quote=False),
                     template)
    return _ATTRIBUTE.sub(
        lambda m: _attribute(m.group(0), m.group(1), words(f"page.{m.group(2)}")), text)


def title(key: str, after: str = "") -> str:
    """A page's <title>: its name in Ukrainian and English, for a tab or a bookmark."""
    return " · ".join(f"{Renderer(lang)(f'page.{key}')}{after}" for lang in LANGS)
