"""A dossier as an investigator reads it and files it: an HTML page and a PDF, in Ukrainian and
English, rendered from the same JSON bundle the standalone verifier checks — so the page, the
paper and the proof cannot say different things.

Each fact is shown with its local time, kind, actor, public payload and hash; then the evidence
(photos by SHA-256), who was notified when (recipients as the public log names them), and the
proofs (the signed tree head and each fact's RFC 6962 audit path).
"""

from __future__ import annotations

import os
from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from shelterwatch.messages import catalogue
from shelterwatch.vocabulary import Subject


def _words(lang: str) -> dict[str, str]:
    """The dossier's labels in one language, from the message catalogue."""
    return catalogue.words("dossier", lang)


def generated(bundle: dict[str, Any]) -> str:
    """When the bundle was made, on the same clock as its facts: the page says its times are in
    the city's zone, so this one is too (the bundle keeps UTC)."""
    at = datetime.fromisoformat(str(bundle["generated_at"]))
    return at.astimezone(ZoneInfo(str(bundle["timezone"]))).isoformat(timespec="seconds")


def heading(bundle: dict[str, Any], lang: str) -> str:
    subject = Subject.parse(str(bundle["subject"]))
    w = _words(lang)
    return f"{w['title']}: {w.get(subject.noun.value, subject.noun.value)} #{subject.id}"


def payload_text(fact: dict[str, Any]) -> str:
    """The public payload in the log's canonical form (UTF-8, sorted keys)."""
    return orjson.dumps(fact["payload"], option=orjson.OPT_SORT_KEYS).decode()


def all_facts(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(bundle["facts"] + bundle["not_yet_signed"], key=lambda f: int(f["seq"]))


def html(bundle: dict[str, Any], *, lang: str, base: str) -> str:
    """`base` is the dossier's path without a suffix: base + '.pdf' and '?lang=' link from it."""
    w = _words(lang)
    other = "en" if lang == "uk" else "uk"
    rows = "".join(
        f'<tr data-seq="{f["seq"]}"><td>{f["seq"]}</td><td>{escape(f["at_local"])}</td>'
        f'<td>{escape(f["kind"])}</td><td>{escape(f["actor"])}</td>'
        f'<td><code>{escape(payload_text(f))}</code></td>'
        f'<td><code class="h">{escape(f["hash"])}</code>'
        + (f'<details><summary>{w["path"]}</summary><ol>'
           + "".join(f"<li><code>{escape(h)}</code></li>" for h in f["audit_path"])
           + "</ol></details>" if "audit_path" in f else "")
        + "</td></tr>" for f in all_facts(bundle))
    evidence = "".join(
        f'<li data-sha256="{escape(e["sha256"])}">{escape(e["at_local"])} · '
        f'{escape(str(e["kind"]))} #{e["seq"]} · {escape(str(e.get("item_id") or "—"))}: '
        f'<code>{escape(e["sha256"])}</code></li>' for e in bundle["evidence"])
    notified = "".join(
        f"<tr><td>{escape(n['at_local'])}</td><td>{escape(str(n['kind']))}</td>"
        f"<td>{escape(str(n.get('recipient') or '—'))}</td>"
        f"<td>{escape(str(n.get('channel') or '—'))}</td>"
        f"<td>{escape(str(n.get('step') or '—'))}</td></tr>" for n in bundle["notifications"])
    sth = bundle["sth"]
    proofs = (f"<dl><dt>{w['tree_size']}</dt><dd data-tree-size>{sth['tree_size']}</dd>"
              f"<dt>{w['timestamp']}</dt><dd>{escape(str(sth['timestamp']))}</dd>"
              f"<dt>{w['root']}</dt><dd><code>{escape(sth['root_hash'])}</code></dd>"
              f"<dt>{w['signature']}</dt><dd><code>{escape(sth['signature'])}</code></dd>"
              f"<dt>{w['key']}</dt><dd><code>{escape(sth['key_id'])}</code></dd>"
              f"<dt>{w['public_key']}</dt><dd><code>{escape(str(bundle['public_key']))}</code>"
              "</dd></dl>" if sth else f"<p>{w['no_sth']}</p>")
    return f"""<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(heading(bundle, lang))}</title>
<style>body{{font:15px/1.4 system-ui,sans-serif;margin:1rem auto;max-width:72rem;padding:0 1rem}}
/* a phone scrolls a wide table sideways instead of cutting its columns off */
table{{border-collapse:collapse;width:100%;display:block;overflow-x:auto}}
td,th{{border-bottom:1px solid #ddd;padding:.2rem .4rem;
text-align:left;vertical-align:top}}code{{font-size:.8rem;word-break:break-all}}
dt{{font-weight:600}}</style></head><body>
<p><a href="{base}?lang={other}">{w['other']}</a> · <a href="{base}.pdf?lang={lang}">{w['pdf']}</a>
 · <a href="/v1{base}">{w['json']}</a> · <a href="/v1/log/verifier.py">{w['verify']}</a>
 (<code>python3 verifier.py bundle.json</code>)</p>
<h1>{escape(heading(bundle, lang))}</h1>
<p>{w['times']} {escape(bundle['timezone'])}.
{w['generated']}: <span data-generated>{escape(generated(bundle))}</span>.
<span data-proven>{len(bundle['facts'])}</span> {w['proven']};
<span data-waiting>{len(bundle['not_yet_signed'])}</span> {w['waiting']}.</p>
<h2>{w['facts']}</h2>
<table><tr><th>{w['seq']}</th><th>{w['at']}</th><th>{w['kind']}</th><th>{w['actor']}</th>
<th>{w['payload']}</th><th>{w['hash']}</th></tr>{rows}</table>
<h2>{w['evidence']}</h2>{f'<ul>{evidence}</ul>' if evidence else f"<p>{w['no_evidence']}</p>"}
<h2>{w['notified']}</h2>
{f"<table><tr><th>{w['at']}</th><th>{w['kind']}</th><th>{w['recipient']}</th>"
 f"<th>{w['channel']}</th><th>{w['step']}</th></tr>{notified}</table>"
 if notified else f"<p>{w['no_notified']}</p>"}
<h2>{w['proofs']}</h2><h3>{w['sth']}</h3>{proofs}
</body></html>"""


def pdf(bundle: dict[str, Any], *, lang: str) -> bytes:
    """The same dossier on A4, Cyrillic in DejaVu Sans (the font the audits' acts use)."""
    from fpdf import FPDF
    from fpdf.enums import WrapMode

    from shelterwatch.audits.exports import font_dir

    w = _words(lang)
    doc = FPDF(format="A4")
    doc.add_font("DejaVu", "", os.path.join(font_dir(), "DejaVuSans.ttf"))
    doc.add_font("DejaVu", "B", os.path.join(font_dir(), "DejaVuSans-Bold.ttf"))
    doc.set_auto_page_break(True, 15)
    doc.set_title(heading(bundle, lang))
    doc.add_page()
    width = doc.w - doc.l_margin - doc.r_margin

    def line(text: str, size: float = 9, bold: bool = False) -> None:
        doc.set_font("DejaVu", "B" if bold else "", size)
        doc.multi_cell(width, size * 0.5, text, new_x="LMARGIN", new_y="NEXT",
                       wrapmode=WrapMode.CHAR)

    line(heading(bundle, lang), 15, True)
    line(f"{w['times']} {bundle['timezone']}. {w['generated']}: {generated(bundle)}.")
    line(f"{len(bundle['facts'])} {w['proven']}; {len(bundle['not_yet_signed'])} {w['waiting']}.")
    doc.ln(2)
    line(w["facts"], 12, True)
    for f in all_facts(bundle):
        line(f"#{f['seq']}  {f['at_local']}  {f['kind']}  ({f['actor']})", 9, True)
        line(payload_text(f), 7)
        line(f"{w['hash']}: {f['hash']}", 6.5)
        if "audit_path" in f:
            line(f"{w['path']}: " + (" ".join(f["audit_path"]) or "—"), 6)
        doc.ln(1)
    doc.ln(2)
    line(w["evidence"], 12, True)
    for e in bundle["evidence"] or ():
        line(f"{e['at_local']}  {e['kind']} #{e['seq']}  {e.get('item_id') or '—'}: "
             f"{e['sha256']}", 8)
    if not bundle["evidence"]:
        line(w["no_evidence"])
    doc.ln(2)
    line(w["notified"], 12, True)
    for n in bundle["notifications"] or ():
        line(f"{n['at_local']}  {n['kind']}  {w['recipient']}: {n.get('recipient') or '—'}; "
             f"{w['channel']}: {n.get('channel') or '—'}; {w['step']}: {n.get('step') or '—'}",
             8)
    if not bundle["notifications"]:
        line(w["no_notified"])
    doc.ln(2)
    line(w["proofs"], 12, True)
    sth = bundle["sth"]
    if sth is None:
        line(w["no_sth"])
    else:
        for label, value in ((w["tree_size"], sth["tree_size"]),
                             (w["timestamp"], sth["timestamp"]), (w["root"], sth["root_hash"]),
                             (w["signature"], sth["signature"]), (w["key"], sth["key_id"]),
                             (w["public_key"], bundle["public_key"])):
            line(f"{label}: {value}", 8)
    line(f"{w['verify']}: python3 verifier.py bundle.json (GET /v1/log/verifier.py)", 8)
    return bytes(doc.output())
