/* The resident's page: where to go now, live alerts, one-tap reports, and all of it offline.
 *
 * Online, the server ranks (/v1/nearest). Offline, or when the server cannot be reached, the
 * phone ranks the offline pack itself (rank.js). Reports are written to a local outbox first,
 * with their Idempotency-Key, and sent from there, so a report made without network is delivered
 * exactly once when the network returns.
 */
"use strict";

const CONFIG = JSON.parse(document.getElementById("config").textContent);
const OUTBOX_KEY = "shelterwatch.outbox";
const RECEIPTS_KEY = "shelterwatch.receipts";
const KIND_TO_BUTTON = {locked: "reportLocked", full: "reportFull", unfit: "reportUnfit",
                        missing: "reportMissing"};

const state = {
  lang: localStorage.getItem("shelterwatch.lang") || "uk",
  shelters: [],          // [{id, lat, lon, name, address, …}] from the pack
  statuses: new Map(),   // shelter id -> status
  dataAt: null,          // when the data on this phone was produced
  point: null,           // [lat, lon] the resident chose
  results: [],
  alert: null,
  activeAlerts: [],
  source: "none",        // "server" | "phone"
};

const t = (key, ...args) => {
  const v = I18N[state.lang][key];
  return typeof v === "function" ? v(...args) : v;
};
const $ = (id) => document.getElementById(id);

function deviceId() {
  let id = localStorage.getItem("shelterwatch.device");
  if (!id) {
    id = newKey();
    localStorage.setItem("shelterwatch.device", id);
  }
  return id;
}

function newKey() {
  if (self.crypto && crypto.randomUUID) return crypto.randomUUID();
  return "k" + Date.now().toString(36) + Math.random().toString(36).slice(2);
}

function online() {
  return navigator.onLine !== false;
}

/* ---------- language ---------- */

function applyLanguage() {
  document.documentElement.lang = state.lang;
  for (const el of document.querySelectorAll("[data-i18n]")) {
    el.textContent = t(el.dataset.i18n);
  }
  for (const el of document.querySelectorAll("[data-i18n-label]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nLabel));
  }
  const button = $("lang");
  button.textContent = t("langButton");
  button.setAttribute("aria-label", t("langButtonLabel"));
  button.lang = state.lang === "uk" ? "en" : "uk";
  document.title = t("title");
  renderAlert();
  renderResults();
  renderReceipts();
  renderDataAge();
}

$("lang").addEventListener("click", () => {
  state.lang = state.lang === "uk" ? "en" : "uk";
  localStorage.setItem("shelterwatch.lang", state.lang);
  applyLanguage();
});

/* ---------- map ---------- */

const map = L.map("map", {center: [50.4501, 30.5234], zoom: 12, keyboard: true,
                          preferCanvas: true, zoomControl: true});
if (CONFIG.tilesUrl) {
  // The page works without tiles: markers and taps need no background.
  L.tileLayer(CONFIG.tilesUrl, {maxZoom: 19,
    attribution: "© OpenStreetMap contributors"}).addTo(map);
}
const shelterLayer = L.layerGroup().addTo(map);
const resultLayer = L.layerGroup().addTo(map);
let hereMarker = null;

map.on("click", (e) => choose(e.latlng.lat, e.latlng.lng));
$("map").addEventListener("keydown", (e) => {
  if (e.key === "Enter" || e.key === " ") {
    e.preventDefault();
    const c = map.getCenter();
    choose(c.lat, c.lng);
  }
});
map.on("moveend", drawShelters);

function statusColour(status) {
  return getComputedStyle(document.documentElement)
    .getPropertyValue(`--st-${status}`).trim() || "#424242";
}

function drawShelters() {
  shelterLayer.clearLayers();
  const bounds = map.getBounds();
  const many = state.shelters.length > 4000;
  if (many && map.getZoom() < 13) return;  // a country's worth of dots helps nobody
  for (const s of state.shelters) {
    if (many && !bounds.contains([s.lat, s.lon])) continue;
    const status = statusOf(s.id);
    L.circleMarker([s.lat, s.lon], {radius: 4, weight: 1, color: "#fff",
      fillColor: statusColour(status), fillOpacity: 0.9, keyboard: false})
      .on("click", (e) => { L.DomEvent.stopPropagation(e); choose(s.lat, s.lon); })
      .addTo(shelterLayer);
  }
}

/* ---------- data on the phone ---------- */

function statusOf(id) {
  return state.statuses.get(id) || "unknown";
}

function shelterFromFeature(f) {
  const p = f.properties || {};
  const [lon, lat] = f.geometry ? f.geometry.coordinates : [p.lon, p.lat];
  return {...p, id: p.id ?? f.id, lat, lon};
}

/* Accepts the pack as a FeatureCollection or as {shelters: […]}, with statuses inline or apart. */
function takePack(pack, fetchedAt) {
  const items = pack.features || pack.shelters || [];
  state.shelters = items.map((x) => (x.type === "Feature" ? shelterFromFeature(x) : x));
  state.statuses = new Map();
  for (const s of state.shelters) if (s.status) state.statuses.set(s.id, s.status);
  const extra = pack.statuses || {};
  for (const [id, v] of Object.entries(extra)) {
    state.statuses.set(Number(id), typeof v === "string" ? v : v.status);
  }
  state.dataAt = new Date(pack.generated_at || pack.built_at || pack.at || fetchedAt);
  $("shelter-count").textContent = state.shelters.length.toLocaleString(state.lang);
  $("shelter-count").dataset.count = String(state.shelters.length);
  drawShelters();
  renderDataAge();
}

async function loadPack() {
  try {
    const response = await fetch("/v1/pack");
    if (response.ok) {
      takePack(await response.json(), response.headers.get("date") || Date.now());
      return;
    }
  } catch (e) { /* offline and never cached: fall through */ }
  await loadShelterPages();
}

/* Without a pack endpoint, read the public registry page by page. */
async function loadShelterPages() {
  const features = [];
  let cursor = null;
  try {
    do {
      const url = "/v1/shelters?limit=1000" + (cursor ? `&cursor=${cursor}` : "");
      const response = await fetch(url);
      if (!response.ok) break;
      const page = await response.json();
      features.push(...page.features);
      cursor = page.next_cursor;
    } while (cursor);
  } catch (e) { /* keep what arrived */ }
  if (features.length) takePack({features}, Date.now());
}

function renderDataAge() {
  if (!state.dataAt) return;
  const time = state.dataAt.toLocaleString(state.lang === "uk" ? "uk-UA" : "en-GB",
    {hour: "2-digit", minute: "2-digit", day: "numeric", month: "short"});
  const minutes = Math.max(0, (Date.now() - state.dataAt.getTime()) / 60000);
  const text = t("dataAge", time, t("ago", minutes));
  $("data-age").textContent = text;
  $("offline-text").textContent = t("offline", text);
  $("offline-banner").hidden = online();
}

/* ---------- ranking ---------- */

async function choose(lat, lon) {
  state.point = [lat, lon];
  if (hereMarker) hereMarker.remove();
  hereMarker = L.marker([lat, lon], {title: t("yourPlace"), alt: t("yourPlace"), keyboard: false})
    .addTo(map);
  await refreshResults();
  $("results-section").focus({preventScroll: true});
}

async function refreshResults() {
  if (!state.point) return;
  const [lat, lon] = state.point;
  const stepFree = $("step-free").checked;
  if (online()) {
    try {
      const q = new URLSearchParams({lat: lat.toFixed(6), lon: lon.toFixed(6), limit: "3",
                                     step_free: String(stepFree)});
      const response = await fetch(`/v1/nearest?${q}`, {cache: "no-store"});
      if (response.ok) {
        const body = await response.json();
        state.results = body.results;
        state.alert = body.alert;
        state.source = "server";
        for (const r of body.results) state.statuses.set(r.shelter.id, r.status);
        renderAlert();
        renderResults();
        return;
      }
    } catch (e) { /* the network is gone: rank on the phone */ }
  }
  state.results = Rank.rank(state.shelters, lat, lon, {
    walk: CONFIG.walk, pool: CONFIG.pool, statusClass: CONFIG.statusClass,
    statusOf, stepFree, warningS: state.alert ? state.alert.warning_s : null, limit: 3,
  });
  state.source = "phone";
  renderResults();
}

$("step-free").addEventListener("change", refreshResults);
$("locate").addEventListener("click", () => {
  if (!navigator.geolocation) { $("hint").textContent = t("locateFailed"); return; }
  $("hint").textContent = t("locating");
  navigator.geolocation.getCurrentPosition(
    (pos) => {
      $("hint").textContent = t("hint");
      map.setView([pos.coords.latitude, pos.coords.longitude], 16);
      choose(pos.coords.latitude, pos.coords.longitude);
    },
    () => { $("hint").textContent = t("locateFailed"); },
    {enableHighAccuracy: true, timeout: 10000, maximumAge: 30000});
});

function localWhy(r) {
  const text = CONFIG.statusText[r.status] || CONFIG.statusText.unknown;
  const parts = [text[state.lang], t("walk", r.walk_s)];
  if (r.reachable_in_time === true) parts.push(t("reachable"));
  if (r.reachable_in_time === false) parts.push(t("notReachable"));
  return parts.join(" · ");
}

function renderResults() {
  const list = $("results");
  list.replaceChildren();
  resultLayer.clearLayers();
  if (!state.point) {
    $("summary").textContent = t("pickPoint");
    $("nearby-actions").hidden = true;
    return;
  }
  const n = state.results.length;
  $("summary").textContent = state.source === "phone" ? t("foundOffline", n) : t("found", n);
  $("nearby-actions").hidden = false;
  state.results.forEach((r, i) => list.append(resultItem(r, i)));
  // push.js (opt-in notifications) listens: which shelters this page just sent the resident to
  document.dispatchEvent(new CustomEvent("shelterwatch:results", {detail: {
    point: state.point, lang: state.lang, shown: state.results.map((r) => r.shelter.id)}}));
}

function resultItem(r, i) {
  const p = r.shelter.properties;
  const status = statusOf(r.shelter.id) || r.status;
  const li = document.createElement("li");
  li.className = "result";
  li.dataset.shelterId = String(r.shelter.id);
  li.dataset.status = status;
  const statusText = (CONFIG.statusText[status] || CONFIG.statusText.unknown)[state.lang];
  const reach = r.reachable_in_time === true ? t("reachable")
    : r.reachable_in_time === false ? t("notReachable") : t("noAlertReach");
  const why = r.why && status === r.status ? r.why[state.lang] : localWhy({...r, status});
  li.innerHTML = `
    <div class="row">
      <span class="badge st-${status}" role="img" aria-label="${t("statusLabel")}: ${statusText}">
        <span aria-hidden="true">${statusText}</span></span>
      <span class="walk">${t("walk", r.walk_s)} · ${t("metres", r.distance_m)}</span>
    </div>
    <h3><span class="n">${i + 1}.</span> <span class="name"></span></h3>
    <p class="address"></p>
    <p class="reach ${r.reachable_in_time === false ? "late" : ""}">${reach}</p>
    <p class="why"></p>
    <div class="reports" role="group"></div>`;
  li.querySelector(".name").textContent = p.name || p.address || `#${r.shelter.id}`;
  li.querySelector(".address").textContent = p.address || "";
  li.querySelector(".why").textContent = why;
  const group = li.querySelector(".reports");
  group.setAttribute("aria-label", t("reportLabel", p.name || p.address || ""));
  for (const [kind, key] of Object.entries(KIND_TO_BUTTON)) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = `report report-${kind}`;
    b.dataset.kind = kind;
    b.textContent = t(key);
    b.setAttribute("aria-label", `${t(key)}: ${t("reportLabel", t("kind")[kind])} — ${p.address || p.name || ""}`);
    b.addEventListener("click", () => report(kind, r.shelter.id));
    group.append(b);
  }
  const [lon, lat] = r.shelter.geometry.coordinates;
  L.circleMarker([lat, lon], {radius: 9, weight: 3, color: "#000",
    fillColor: statusColour(status), fillOpacity: 1})
    .bindTooltip(`${i + 1}. ${p.address || p.name || ""}`).addTo(resultLayer);
  return li;
}

/* ---------- alerts ---------- */

function renderAlert() {
  const banner = $("alert-banner");
  const a = state.alert || state.activeAlerts[0] || null;
  if (!a) {
    banner.className = "banner calm";
    $("alert-text").textContent = t("noAlert");
    return;
  }
  banner.className = "banner alarm";
  const type = t("alertType")[a.type] || t("alert");
  const threat = a.threat ? ` · ${t("threat")[a.threat] || a.threat}` : "";
  const warn = a.warning_s != null ? ` · ${t("warning", a.warning_s)}` : "";
  $("alert-text").textContent = `${type}${threat}${warn}`;
}

async function loadActiveAlerts() {
  try {
    const response = await fetch("/v1/alerts/active", {cache: "no-store"});
    if (!response.ok) return;
    const body = await response.json();
    state.activeAlerts = Array.isArray(body) ? body : (body.alerts || body.items || []);
    renderAlert();
  } catch (e) { /* offline: keep the last known */ }
}

function listen() {
  if (!window.EventSource) return;
  const source = new EventSource("/v1/stream");
  source.addEventListener("alert", () => {
    loadActiveAlerts();
    refreshResults();
  });
  source.addEventListener("status", (e) => {
    const data = JSON.parse(e.data);
    if (data.shelter_id == null || !data.status) return;
    state.statuses.set(Number(data.shelter_id), data.status);
    // Show the new status at once, then let the server re-rank with it.
    renderResults();
    drawShelters();
    setTimeout(refreshResults, 300);
  });
}
