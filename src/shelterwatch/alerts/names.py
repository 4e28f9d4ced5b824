"""Ukrainian place names in the official Latin spelling, so English-language feeds find our areas.

The alert histories spell places with the national transliteration of 2010 (Cabinet of Ministers
resolution No. 55: "Kyivska oblast", "Nikopolskyi raion"); our areas carry Ukrainian names.
Transliterating ours and comparing case-folded strings joins the two without a hand-kept table.
"""

from __future__ import annotations

_PLAIN = {
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "ж": "zh", "з": "z",
    "и": "y", "і": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ь": "", "'": "", "’": "", "ʼ": "",
}
# Letters spelled one way at the start of a word and another inside it.
_INITIAL = {"є": ("ye", "ie"), "ї": ("yi", "i"), "й": ("y", "i"), "ю": ("yu", "iu"),
            "я": ("ya", "ia")}


def transliterate(text: str) -> str:
    """Ukrainian text in the official Latin spelling (KMU 55/2010), case kept."""
    out: list[str] = []
    prev = ""
    for ch in text:
        low = ch.lower()
        if low in _INITIAL:
            initial, inner = _INITIAL[low]
            latin = initial if not prev.isalpha() else inner
        elif low == "г" and prev.lower() == "з":
            latin = "gh"  # "зг" is written "zgh" so it is not read as "zh"
        else:
            latin = _PLAIN.get(low, ch)
        if ch != low and latin:
            latin = latin[0].upper() + latin[1:]
        out.append(latin)
        if ch not in "'’ʼ":
            prev = ch
    return "".join(out)


def key(name: str) -> str:
    """A comparison key: transliterated, case-folded, with spacing and apostrophes normalised."""
    return " ".join(transliterate(name).replace("'", "").split()).casefold()
