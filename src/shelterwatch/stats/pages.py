"""The public /stats pages, server-rendered HTML with SVG charts, in Ukrainian and English.

No script and no chart library: a bar is a rectangle whose width is the number, so the page reads
at a glance on any phone and prints as it shows.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from shelterwatch.messages import catalogue
from shelterwatch.rules import figures
from shelterwatch.rules.figures import FigureId


def words(lang: str) -> dict[str, str]:
    """The /stats pages' labels in one language, from the message catalogue."""
    return catalogue.words("stats", lang)


# The owners' league tables on /stats: how fast doors open and keyholders and owners answer.
OWNER_RANKED = (FigureId.TIME_TO_OPEN_MEAN, FigureId.CHECK_IN_TIME_MEAN,
                FigureId.CASE_TIME_TO_OPEN_P50, FigureId.RESPONSIVENESS)
OWNERS_SHOWN = 20
CASE_FIELDS = ("tracking_id", "alert_id", "created", "first_notified", "patrol_dispatched",
               "door_open", "closed", "resolution", "evidence_kind")
CASE_TIMES = frozenset({"created", "first_notified", "patrol_dispatched", "door_open", "closed"})


def show(value: float | None, unit: str, lang: str) -> str:
    if value is None:
        return words(lang)["no_data"]
    if unit == "share":
        return f"{value * 100:.1f} %"
    if unit == "seconds":
        w = words(lang)
        return f"{value:.0f} {w['s']}" if value < 600 else f"{value / 60:.1f} {w['min']}"
    return f"{value:.1f}"


def _case_cell(case: dict[str, Any], field: str, lang: str, zone: ZoneInfo) -> str:
    """One cell of the cases table as a reader says it: times on the city's clock, the
    resolution and the evidence in words (the CSV and the JSON keep the codes)."""
    value = case.get(field)
    if value is None or value == "":
        return "—"
    if field in CASE_TIMES:
        at = datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(zone)
        return at.strftime("%Y-%m-%d %H:%M:%S")
    if field == "resolution":
        return catalogue.term("resolution", str(value), lang)
    if field == "evidence_kind":  # "keyholder:open": who said what
        role, _, kind = str(value).partition(":")
        return f"{catalogue.term('role', role, lang)}: {catalogue.term('kind', kind, lang)}"
    return str(value)


ROW_PX = 40  # one bar: its label on a line of its own, the bar and its figure below it
BAR_SHARE = 75  # percent of the chart's width the longest bar takes; its figure follows it


def bars(rows: list[tuple[str, float | None, str]], *, scale: float = 1.0) -> str:
    """A horizontal bar chart: (label, value in 0..scale, shown text) per row.

    Drawn in CSS pixels, not in a viewBox scaled to the page: the words keep the body's size on
    a 360-px phone (a 600-wide viewBox shrank them to 7 px there) and the bars take the width.
    """
    height = ROW_PX * len(rows) + 4
    parts = [f'<svg class="bars" width="100%" height="{height}" role="img">']
    for i, (label, value, text) in enumerate(rows):
        y = ROW_PX * i + 2
        share = 0 if value is None or scale <= 0 else max(0.5, BAR_SHARE * value / scale)
        parts.append(f'<text x="0" y="{y + 15}" font-size="15">{escape(label)}</text>'
                     f'<rect x="0" y="{y + 20}" width="{share:.1f}%" height="16" '
                     f'fill="#1f6f43"/><text x="{share + 1.5:.1f}%" y="{y + 34}" '
                     f'font-size="15">{escape(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _place(comparison: dict[str, Any]) -> str:
    """"2 / 5": this owner's or district's rank among those with data (1 = best)."""
    if comparison.get("rank") is None:
        return "—"
    return f"{comparison['rank']} / {comparison['of']}"


def owners_ranked(report: dict[str, Any], lang: str) -> str:
    """Per figure, the owners best first (at most 20; the JSON lists every one)."""
    w, out = words(lang), []
    for fid in OWNER_RANKED:
        d = figures.BY_ID[fid]
        listed = report.get("rankings", {}).get(fid.value, {}).get("owners", [])
        rows = "".join(
            f'<tr data-owner="{escape(str(r["id"]))}"><td>{r["rank"] or "—"}</td>'
            f'<td><a href="/stats/owners/{escape(str(r["id"]))}?lang={lang}">{w["owner"]} '
            f'#{escape(str(r["id"]))}</a></td><td>{show(r["value"], d.unit, lang)}</td></tr>'
            for r in listed[:OWNERS_SHOWN])
        title = d.title_uk if lang == "uk" else d.title_en
        out.append(f'<h3>{escape(title)}</h3><table data-ranking="{fid.value}">{rows}</table>')
    return "".join(out)


def render(report: dict[str, Any], *, lang: str, heading: str, json_url: str,
           csv_url: str, cases_csv_url: str, other_url: str, zone: str = "Europe/Kyiv") -> str:
    w = words(lang)
    city_zone = ZoneInfo(zone)
    definitions = {d.id.value: d for d in figures.DEFINITIONS}
    headline = FigureId.OPEN_WITHIN_5_MIN.value
    main = report["versus_city"][headline]
    rows = []
    for fid, cmp in report["versus_city"].items():
        d = definitions[fid]
        title = d.title_uk if lang == "uk" else d.title_en
        rows.append(f"<tr><td>{escape(title)}</td><td data-figure=\"{fid}\">"
                    f"{show(cmp['value'], d.unit, lang)}</td>"
                    f"<td>{show(cmp['city'], d.unit, lang)}</td>"
                    f"<td data-rank=\"{fid}\">{_place(cmp)}</td>"
                    f"<td class=\"def\">"
                    f"{escape(d.definition_uk if lang == 'uk' else d.definition_en)}</td></tr>")
    trend = bars([(m["month"], m["within_5_min"], show(m["within_5_min"], "share", lang))
                  for m in report["monthly"]])
    dist = report["time_to_open_distribution"]
    top = max([b["pairs"] for b in dist] + [1])
    distribution = bars([(catalogue.term("time_bucket", b["bucket"], lang), b["pairs"],
                          str(b["pairs"])) for b in dist],
                        scale=float(top))
    districts = bars([((d["name"] if lang == "uk" else d["name_en"] or d["name"]),
                       d["value"], show(d["value"], "share", lang))
                      for d in report["districts"]])
    worst = "".join(f"<li><a href=\"/stats/owners/{o['owner_id']}?lang={lang}\">{w['owner']} "
                    f"#{o['owner_id']}</a>: {show(o['value'], 'share', lang)}</li>"
                    for o in report["worst_owners_7_days"])
    case_rows = "".join(
        "<tr>" + "".join(f"<td>{escape(_case_cell(c, k, lang, city_zone))}</td>"
                         for k in CASE_FIELDS)
        + (f'<td><a href="/dossiers/incident/{int(c["incident_id"])}?lang={lang}">'
           f"{w['case_dossier']}</a> · "
           f'<a href="/dossiers/shelter/{int(c["shelter_id"])}?lang={lang}">'
           f"{w['shelter_dossier']}</a></td>"
           if c.get("incident_id") and c.get("shelter_id") else "<td>—</td>")
        + "</tr>" for c in report.get("cases", [])[:100])
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(heading)} — {escape(w['title'])}</title>
<style>body{{font:16px/1.4 system-ui,sans-serif;margin:1rem auto;max-width:60rem;padding:0 1rem}}
.big{{font-size:2.6rem;font-weight:700}}
/* a phone scrolls a wide table sideways; the page itself keeps the screen's width */
table{{border-collapse:collapse;width:100%;display:block;overflow-x:auto}}
td,th{{border-bottom:1px solid #ddd;padding:.3rem;text-align:left;vertical-align:top}}
.def{{font-size:.8rem;color:#444}}</style></head><body>
<p><a href="{other_url}">{w['other']}</a></p>
<h1>{escape(heading)}</h1>
<p>{escape(w['title'])}</p>
<p class="big" data-figure="headline">{show(main['value'], 'share', lang)}</p>
<p>{escape(definitions[headline].title_uk if lang == 'uk' else definitions[headline].title_en)}
 — {w['city']}: {show(main['city'], 'share', lang)};
 {report['counts']['shelter_alert_pairs']} {w['pairs']}</p>
<h2>{w['trend']}</h2>{trend}
<h2>{w['distribution']}</h2>{distribution}
<h2>{w['districts']}</h2>{districts}
<h2>{w['worst']}</h2><ol>{worst}</ol>
<h2>{w['owners_ranked']}</h2>{owners_ranked(report, lang)}
<table><tr><th>{w['figure']}</th><th>{w['value']}</th><th>{w['city']}</th>
<th>{w['rank']}</th><th>{w['definition']}</th></tr>{''.join(rows)}</table>
<h2>{w['cases']}</h2>
<table><tr>{''.join(f"<th>{escape(w['col.' + k])}</th>" for k in CASE_FIELDS)}
<th>{w['dossier']}</th></tr>
{case_rows}</table>
<p>{escape(w['zone'])} {escape(zone)}.</p>
<p>{w['download']}: <a href="{json_url}">JSON</a> · <a href="{csv_url}">CSV</a> ·
<a href="{cases_csv_url}">CSV ({w['cases']})</a></p>
</body></html>"""
