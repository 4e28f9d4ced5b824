"""Every word people read comes from the catalogue: each key the code or the page asks for is
worded in Ukrainian and English, and the places that word messages hold no sentence of their own.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import shelterwatch
from shelterwatch.messages import catalogue

SRC = Path(shelterwatch.__file__).parent
STATIC = SRC / "web" / "static"
MESSAGES = catalogue.data()["message"]
PLACEHOLDER = re.compile(r"\{(\w+)(?::[\w.]+)?\}")
FAMILIES = ("status", "reason", "why", "case", "alert_news", "notice", "dossier", "bot", "sms",
            "push", "receipt", "page", "reach", "timeline", "stats")
KEY = re.compile(rf"\A(?:{'|'.join(FAMILIES)})\.[\w.]+\Z")
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
ENGLISH_PHRASE = re.compile(r"[A-Za-z]{2,}[,']? [a-z]{2,}")
# The places that say things to people: each words its messages from the catalogue.
WORDING_MODULES = ["channels/texts.py", "channels/sms/replies.py", "channels/telegram/bot.py",
                   "channels/telegram/views.py", "channels/push/service.py",
                   "stats/dossier_render.py", "reports/service.py", "escalation/notices.py",
                   "escalation/reach.py", "stats/pages.py"]

ENGINEERS_CALLS = {"NotFound", "InvalidInput", "Unauthorized", "Forbidden", "Conflict",
                   "ShelterwatchError", "Field", "ValueError", "KeyError"}
# Not words but data: Kyiv's "м." (city) address prefix the SMS shortens addresses by, the
# notes a bot button stores with the report it sends (private, never shown back), and the
# command line the dossier's PDF prints for checking it.
DATA = {"м.", r"^\s*м\.?\s*київ\s*,\s*", "refused entry (Telegram button)",
        "not stated (Telegram button)",
        ": python3 verifier.py bundle.json (GET /v1/log/verifier.py)"}


def _tree(name: str) -> ast.AST:
    return ast.parse((SRC / name).read_text("utf-8"))


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of docstring nodes: prose for engineers, not words for residents."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _for_engineers(tree: ast.AST) -> set[int]:
    """The ids of strings said to API clients and engineers, in English by design: problem
    details (errors), the OpenAPI document's summaries and descriptions."""
    found = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        callee = node.func
        called = callee.attr if isinstance(callee, ast.Attribute) else getattr(callee, "id", "")
        inside = [*node.args, *node.keywords] if called in ENGINEERS_CALLS else [
            k for k in node.keywords if k.arg in ("summary", "description", "responses")]
        found |= {id(n) for part in inside for n in ast.walk(part)}
    return found


def _strings(name: str) -> list[tuple[int, str]]:
    tree = _tree(name)
    skip = _docstrings(tree) | _for_engineers(tree)
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in skip and node.value not in DATA]


def _js(name: str) -> str:
    """A script without its comments."""
    text = (STATIC / name).read_text("utf-8")
    return re.sub(r"/\*.*?\*/|(?<![:\"'`])//[^\n]*", "", text, flags=re.S)


@pytest.mark.parametrize("section", ["message", "term", "plural"])
def test_every_entry_is_worded_in_both_languages(section: str) -> None:
    data = catalogue.data()[section]
    entries = list(data.items()) if section == "plural" else data.items() if (
        section == "message") else [(f"{group}.{key}", words) for group, items in data.items()
                                    for key, words in items.items()]
    for key, words in entries:
        assert set(words) >= set(catalogue.LANGS), key
        if section == "plural":
            assert {"one", "few", "many"} <= set(words["uk"]), key  # Ukrainian's three forms
            assert {"one", "other"} <= set(words["en"]), key
        else:
            assert all(str(words[lang]).strip() or key.endswith("separator")
                       for lang in catalogue.LANGS), key


def test_both_languages_of_a_message_take_the_same_values() -> None:
    differ = {key: (PLACEHOLDER.findall(words["uk"]), PLACEHOLDER.findall(words["en"]))
              for key, words in MESSAGES.items()
              if sorted(PLACEHOLDER.findall(words["uk"])) != sorted(
                  PLACEHOLDER.findall(words["en"]))
              # Each language its own list of items; a notice's title and body carry both
              # languages, so the values they share are said once, after the English.
              and not key.startswith(("reason.readiness", "notice."))}
    assert differ == {}


def test_every_key_the_code_names_is_in_the_catalogue() -> None:
    named: dict[str, str] = {}
    prefixes: dict[str, str] = {}  # the start of a key made in an f-string: f"bot.button.{kind}"
    for path in sorted(SRC.rglob("*.py")):
        name = path.relative_to(SRC).as_posix()
        if name == "vocabulary.py":  # fact kinds ("status.changed"), not messages
            continue
        tree = _tree(name)
        parts = {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)
                 for v in node.values}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and (
                    KEY.match(node.value) or KEY.match(node.value + "x")):
                into = prefixes if id(node) in parts else named
                into[node.value] = f"{name}:{node.lineno}"
    assert len(named) > 30 and len(prefixes) > 3  # the scan sees them (a broken one finds none)
    # A key names a message, or a message's group ("notice.locked" → .title and .body).
    assert {key: where for key, where in named.items() if key not in MESSAGES
            and not any(k.startswith(key + ".") for k in MESSAGES)} == {}
    assert {start: where for start, where in prefixes.items()
            if not any(key.startswith(start) for key in MESSAGES)} == {}


def _calls(name: str, function: str) -> set[str]:
    """The constant first arguments of calls to `function` (a name or an attribute) in one
    module."""
    found = set()
    for node in ast.walk(_tree(name)):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            callee = node.func
            called = callee.attr if isinstance(callee, ast.Attribute) else getattr(
                callee, "id", "")
            if called == function:
                found.add(str(node.args[0].value))
    return found


def test_every_bot_reply_and_dossier_label_the_code_asks_for_is_catalogued() -> None:
    replies = set().union(*(_calls(name, "t") for name in WORDING_MODULES + [
        "channels/sms/views.py"]))
    assert {"welcome", "none", "report_failed"} <= replies
    assert {r for r in replies if f"bot.{r}" not in MESSAGES} == set()
    labels = {node.slice.value for node in ast.walk(_tree("stats/dossier_render.py"))
              if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name)
              and node.value.id == "w" and isinstance(node.slice, ast.Constant)}
    assert {"title", "facts", "proofs"} <= labels
    assert {label for label in labels if f"dossier.{label}" not in MESSAGES} == set()


def test_every_word_the_page_asks_for_is_in_the_catalogue() -> None:
    i18n = _js("i18n.js")
    worded = set(re.findall(r'\bw\("(\w+)"', i18n)) | set(
        re.findall(r'worded\(lang, "page\.(\w+)"', i18n))
    assert {"found", "caseOpen", "minutes"} <= worded
    assert {key for key in worded if f"page.{key}" not in MESSAGES} == set()
    # Each word the scripts and the pages look up is a plain page message or a sentence i18n.js
    # gives values to.
    known = {key.removeprefix("page.") for key in MESSAGES if key.startswith("page.")}
    known |= set(re.findall(r"^    (\w+): ", i18n, re.M))
    used: dict[str, str] = {}
    for script, helper in (("app.js", "t"), ("answer.js", "t"), ("outbox.js", "t"),
                           ("search.js", "t"), ("deeplink.js", "t"), ("alerts.js", "t"),
                           ("track.js", "tr")):
        for key in re.findall(rf'\b{helper}\("(\w+)"', _js(script)):
            used[key] = script
    for page in (SRC / "web" / "templates").glob("*.html"):
        for key in re.findall(r'data-i18n(?:-\w+)?="(\w+)"', page.read_text("utf-8")):
            used[key] = page.name
    assert len(used) > 60
    assert {key: where for key, where in used.items() if key not in known} == {}


def test_i18n_js_holds_no_sentence_of_its_own() -> None:
    i18n = re.sub(r"throw new Error\([^;]*;|\"use strict\";", "", _js("i18n.js"))  # for engineers
    literals = re.findall(r'"([^"\n]*)"|`([^`]*)`', i18n)
    text = [a or b for a, b in literals]
    assert [s for s in text if CYRILLIC.search(s)] == []
    assert [s for s in text if ENGLISH_PHRASE.search(re.sub(r"\$\{[^}]*\}", "", s))] == []


@pytest.mark.parametrize("name", WORDING_MODULES)
def test_the_places_that_word_messages_hold_no_sentence(name: str) -> None:
    strings = _strings(name)
    assert [(line, s) for line, s in strings if CYRILLIC.search(s)] == []
    english = [(line, s) for line, s in strings
               if ENGLISH_PHRASE.search(s) and not any(m in s for m in ("<", "{", '="'))]
    assert english == []
