"""The page's words, as a phone's JavaScript makes them from the served catalogue: every word and
sentence of i18n.js, in both languages, filled in with no placeholder left (run in Node)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

import shelterwatch
from shelterwatch.web import views

STATIC = Path(shelterwatch.__file__).parent / "web" / "static"
NODE = shutil.which("node")
# Each sentence of i18n.js called with values of the kinds the page passes.
RUN = """
const fs = require("fs");
global.self = global;
eval(fs.readFileSync(process.argv[2], "utf8"));
eval(fs.readFileSync(process.argv[3], "utf8") + ";global.I18N = I18N;");
const out = {};
for (const lang of ["uk", "en"]) {
  out[lang] = {};
  for (const [key, value] of Object.entries(I18N[lang])) {
    if (typeof value !== "function") { out[lang][key] = value; continue; }
    const args = value.length === 1 ? [2] : ["KV-7F3K-2Q", 4, "14:05"].slice(0, value.length);
    out[lang][key] = value(...args);
  }
}
console.log(JSON.stringify(out));
"""


@pytest.fixture(scope="module")
def words(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    if NODE is None:
        pytest.skip("node is not installed (make test installs it with npm)")
    here = tmp_path_factory.mktemp("page")
    (here / "catalogue.js").write_bytes(views._catalogue_script().body)  # as /static serves it
    (here / "run.js").write_text(RUN, "utf-8")
    done = subprocess.run([NODE, str(here / "run.js"), str(here / "catalogue.js"),
                           str(STATIC / "i18n.js")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    loaded: dict[str, dict[str, Any]] = json.loads(done.stdout)
    return loaded


def test_every_page_word_is_made_in_both_languages_with_nothing_left_to_fill(
        words: dict[str, dict[str, Any]]) -> None:
    assert set(words["uk"]) == set(words["en"]) and len(words["uk"]) > 120
    for lang, table in words.items():
        for key, value in table.items():
            text = json.dumps(value, ensure_ascii=False)
            assert "{" not in text.strip("{}") or isinstance(value, dict), (lang, key, value)
            assert value not in ("", None, [], {}), (lang, key)


def test_the_page_counts_in_each_languages_plural_forms(
        words: dict[str, dict[str, Any]]) -> None:
    assert words["uk"]["found"] == "2 найближчі укриття: найкраще — першим."
    assert words["en"]["found"] == "2 nearest shelters found, best first."
    assert words["uk"]["caseOpen"] == ("Випадок KV-7F3K-2Q відкритий: 5 повідомлень про "
                                       "зачинені двері.")
    assert words["en"]["walk"] == "1 min walk" and words["uk"]["metres"] == "2 м"
    assert words["uk"]["compass"][0] == "північ" and len(words["en"]["months"]) == 12
