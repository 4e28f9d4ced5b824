// The coverage page: cells coloured by the walk to the nearest usable shelter against the threat's
// warning time, and the districts' figures. Both come from /v1/coverage and /v1/coverage/cells.
"use strict";
const $ = (id) => document.getElementById(id);
const COLOURS = ["#1a9850", "#91cf60", "#fdae61", "#d73027", "#4d4d4d"];
const map = L.map("map", { preferCanvas: true }).setView([50.45, 30.52], 10);
let layer = null;
const num = (x) => x === null || x === undefined ? "—" : Number(x).toLocaleString(T("uk-UA", "en-GB"));
const pct = (x) => `${(100 * x).toFixed(1)}%`;
const say = (text) => { $("msg").textContent = text; };

function colour(p) {
  if (p.walk_s === null) return COLOURS[4];
  if (p.warning_s <= 0) return COLOURS[3];
  const r = p.walk_s / p.warning_s;
  return COLOURS[r <= 0.5 ? 0 : r <= 1 ? 1 : r <= 2 ? 2 : 3];
}

async function fetchReady(path) {
  for (;;) {
    const res = await fetch(path);
    if (res.status !== 202) return res;  // 202: built ahead of requests, not yet ready
    const wait = Number(res.headers.get("Retry-After") || 5);
    say(`${T("Обчислюється…", "Computing…")} (${wait} s)`);
    await new Promise((ok) => setTimeout(ok, wait * 1000));
  }
}

function showSummary(s) {
  const t = s.total;
  $("headline").textContent =
    T(`${s.area.name}: ${pct(t.share)} людей не встигають до придатного укриття ` +
      `(${num(t.out_of_reach)} з ${num(t.population)})`,
      `${s.area.name_en}: ${pct(t.share)} of people cannot reach a usable shelter in time ` +
      `(${num(t.out_of_reach)} of ${num(t.population)})`);
  const body = $("districts");
  body.replaceChildren();
  for (const d of s.districts) {
    const row = body.insertRow();
    for (const [text, cls] of [[T(d.name, d.name_en), ""], [num(d.population), "n"],
        [num(d.out_of_reach), "n"], [pct(d.share), "n"], [pct(d.reduced_mobility_share), "n"],
        [d.places_per_person === null ? "—" : d.places_per_person.toFixed(2), "n"]]) {
      const td = row.insertCell(); td.textContent = text; if (cls) td.className = cls;
    }
  }
  const src = s.population_source;
  $("source").textContent = `${T("Населення", "Population")}: ${src.label}, ${src.date} — ` +
    `${src.method}${src.coarse ? T(" (грубо)", " (coarse)") : ""}. ` +
    `${T("Досяжність", "Reach")}: ${s.reach.method}. ` +
    T(`Статуси станом на запис журналу ${s.statuses_as_of_seq}.`,
      `Statuses as of log seq ${s.statuses_as_of_seq}.`);
}

// Why a site is a candidate, in the page's language (the summary's `reason`).
function why(reason) {
  const [kind, value] = reason.split(":");
  if (kind === "status") return `${T("стан", "status")}: ${value}`;
  if (kind === "locked_prone") return T(`зачинене ${value}× нещодавно`, `found locked ${value}× lately`);
  if (kind === "not_ready") return T("не готове за аудитом", "audit: not ready");
  return T("пропозиція", "proposed point");
}

function showSites(s) {
  const b = s.sites_basis;
  $("sites-basis").textContent =
    T(`Без ${b.registry_candidates} ненадійних укриттів реєстру поза досяжністю ` +
      `${num(b.out_of_reach_without_registry_candidates)} людей; кандидатів ${b.candidates}.`,
      `Without the registry's ${b.registry_candidates} unreliable doors, ` +
      `${num(b.out_of_reach_without_registry_candidates)} people are out of reach; ` +
      `${b.candidates} candidates (greedy maximal coverage).`);
  const body = $("sites");
  body.replaceChildren();
  for (const site of s.sites) {
    const row = body.insertRow();
    for (const [text, cls] of [[site.rank, "n"], [site.label, ""], [why(site.reason), ""],
        [num(site.marginal_gain), "n"], [num(site.cumulative_gain), "n"]]) {
      const td = row.insertCell(); td.textContent = text; if (cls) td.className = cls;
    }
  }
}

async function load() {
  const q = `area=${encodeURIComponent($("area").value.trim())}&threat=${$("threat").value}`;
  try {
    const res = await fetchReady(`/v1/coverage?${q}`);
    const data = await res.json();
    if (!res.ok) { say(`${T("Помилка", "Error")}: ${data.detail || res.statusText}`); return; }
    shown = data;
    showSummary(data);
    showSites(data);
    const cells = await (await fetchReady(`/v1/coverage/cells?${q}`)).json();
    if (layer) layer.remove();
    layer = L.geoJSON(cells, {
      style: (f) => ({ color: colour(f.properties), weight: 0, fillOpacity: 0.7 }),
      onEachFeature: (f, l) => l.bindTooltip(
        `${num(f.properties.population)} · ${f.properties.walk_s === null ? "—" :
          Math.round(f.properties.walk_s) + " s"}`),
    }).addTo(map);
    if (layer.getBounds().isValid()) map.fitBounds(layer.getBounds());
    say("");
  } catch (e) { say(`${T("Помилка", "Error")}: ${e.message}`); }
}

const asked = new URLSearchParams(location.search);  // /coverage?area=31&threat=cruise
if (asked.get("area")) $("area").value = asked.get("area");
if (asked.get("threat")) $("threat").value = asked.get("threat");
$("go").onclick = load;
$("threat").onchange = load;
let shown = null;  // the last answer, worded again when the language changes
document.addEventListener("langchange", () => { if (shown) { showSummary(shown); showSites(shown); } });
load();
