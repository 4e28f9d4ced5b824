/* The tracking page for one report: its shelter, its case, who was reached, and its timeline.
 *
 * Everything shown comes from /v1/reports/{id}/progress, which reads the outbox, the ladder and
 * the tasks; the page fetches it again whenever the live stream says an incident or a status
 * changed (and every 10 s, since a message leaving the outbox raises no event).
 */
"use strict";

const PAGE = JSON.parse(document.getElementById("config").textContent);
const TRACKING_ID = PAGE.trackingId;
let lang = localStorage.getItem("shelterwatch.lang") || "uk";
let last = null;
const tr = (key, ...args) => {
  const v = I18N[lang][key];
  return typeof v === "function" ? v(...args) : v;
};
const el = (id) => document.getElementById(id);

/* "2026-12-01T22:05:13+02:00" → "22:05:13, 1 Dec": the clock on the wall where the shelter is. */
function localTime(atLocal) {
  if (!atLocal) return "";
  const [date, rest] = atLocal.split("T");
  const [, month, day] = date.split("-").map(Number);
  return `${rest.slice(0, 8)}, ${day} ${tr("months")[month - 1]}`;
}

function render() {
  document.documentElement.lang = lang;
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = tr(node.dataset.i18n);
  el("lang").textContent = tr("langButton");
  el("lang").setAttribute("aria-label", `${tr("langButton")} — ${tr("langButtonLabel")}`);
  el("lang").lang = lang === "uk" ? "en" : "uk";
  document.title = `${tr("trackTitle")} ${TRACKING_ID}`;
  if (!last) return;
  const p = last;
  el("tid").textContent = p.tracking_id;
  el("shelter").textContent = p.shelter
    ? `${tr("kind")[p.kind] || p.kind}: ${p.shelter.name || ""} — ${p.shelter.address || ""}`
    : tr("kind")[p.kind] || p.kind;
  const status = p.status && p.status.status;
  const statusEl = el("status");
  statusEl.replaceChildren();
  if (status) {
    const badge = document.createElement("span");
    badge.className = `badge st-${status}`;
    badge.textContent = (PAGE.statusText[status] || {})[lang] || status;
    statusEl.append(`${tr("statusNow")}: `, badge);
  }
  el("case").textContent = p.incident
    ? (p.incident.state === "open" ? tr("caseOpen", p.incident.tracking_id, p.incident.me_too)
      : tr("caseClosed", p.incident.tracking_id, tr("resolution")[p.incident.resolution]
                                               || p.incident.resolution))
    : p.kind === "no_shelter_nearby" ? tr("placeOnly") : tr("noCase");
  el("case").dataset.state = p.incident ? p.incident.state : "none";
  // The server says whether the case's dossier is public (the location policy may keep it from
  // the public); a link that would answer 401 is not shown.
  const dossier = el("dossier");
  dossier.hidden = !p.dossier;
  if (p.dossier) dossier.href = `${p.dossier}?lang=${lang}`;
  const reach = el("reach");
  reach.replaceChildren();
  for (const line of p.reach) {
    const li = document.createElement("li");
    li.className = `reach-${line.state}`;
    li.dataset.who = line.who;
    li.dataset.state = line.state;
    li.textContent = line.text[lang];
    reach.append(li);
  }
  if (!p.reach.length) {
    const li = document.createElement("li");
    li.textContent = tr("reachNone");
    reach.append(li);
  }
  const list = el("timeline");
  list.replaceChildren();
  for (const e of p.timeline) {
    const li = document.createElement("li");
    li.dataset.event = e.event;
    const time = document.createElement("time");
    time.dateTime = e.at;
    time.textContent = localTime(e.at_local);
    const words = e.event === "incident.resolved" && e.resolution
      ? tr("caseClosed", (p.incident || p).tracking_id, tr("resolution")[e.resolution] || e.resolution)
      : e.text[lang];
    li.append(time, " — ", words);
    if (e.made_at && Date.parse(e.at) - Date.parse(e.made_at) > 60000) {
      const made = new Date(e.made_at).toLocaleTimeString(lang === "uk" ? "uk-UA" : "en-GB",
        {hour: "2-digit", minute: "2-digit", timeZone: p.zone || "Europe/Kyiv"});
      li.append(` (${tr("madeAt", made)})`);
    }
    list.append(li);
  }
  el("zone-note").textContent = tr("zoneNote", p.zone || "Europe/Kyiv");
}

async function load() {
  try {
    const r = await fetch(`/v1/reports/${encodeURIComponent(TRACKING_ID)}/progress`,
                          {cache: "no-store"});
    const body = await r.json();
    if (!r.ok) {
      el("error").hidden = false;
      el("error").textContent = body.detail || String(r.status);
      return;
    }
    el("error").hidden = true;
    last = body;
    render();
    document.body.dataset.ready = "1";
  } catch (e) {
    el("error").hidden = false;
    el("error").textContent = tr("trackOffline");
  }
}

el("lang").addEventListener("click", () => {
  lang = lang === "uk" ? "en" : "uk";
  localStorage.setItem("shelterwatch.lang", lang);
  render();
});

if (window.EventSource) {
  const stream = new EventSource("/v1/stream");
  for (const kind of ["incident", "status", "alert"]) stream.addEventListener(kind, load);
}
setInterval(load, 10000);
render();
load();
