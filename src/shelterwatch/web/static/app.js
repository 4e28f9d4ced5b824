/* The resident's page: where to go now, live alerts, one-tap reports, and all of it offline.
 *
 * Online, the server ranks (/v1/nearest). Offline, or when the server cannot be reached, the
 * phone ranks the offline pack itself (rank.js). Reports are written to a local outbox first,
 * with their Idempotency-Key, and sent from there, so a report made without network is delivered
 * exactly once when the network returns.
 */
"use strict";

const CONFIG = JSON.parse(document.getElementById("config").textContent);
const NEAREST_TIMEOUT_MS = 5000;  // simulate/driver.py PHONE_TIMEOUT_S
const OUTBOX_KEY = "shelterwatch.outbox";
const RECEIPTS_KEY = "shelterwatch.receipts";
const KIND_TO_BUTTON = {locked: "reportLocked", refused: "reportRefused", full: "reportFull",
                        unfit: "reportUnfit", missing: "reportMissing"};

const state = {
  lang: localStorage.getItem("shelterwatch.lang") || "uk",
  shelters: [],          // [{id, lat, lon, name, address, …}] from the pack
  statuses: new Map(),   // shelter id -> status
  dataAt: null,          // when the data on this phone was produced
  point: null,           // [lat, lon] the resident chose
  results: [],
  alert: null,
  activeAlerts: [],
  alertHeardAt: null,    // when the server last said which alert is in force (null: not yet)
  alertAskFailed: false, // the server could not be asked: the alert state is unknown
  source: "none",        // "server" | "phone"
  from: null,            // how the point was chosen: {how: "gps"|"tap"|"keyboard"|"search", label}
  here: null,            // the phone's latest position while it is followed, [lat, lon]
  reportedId: null,      // the shelter this phone last reported: kept in view with its status
  packAlerts: [],        // alerts in force when the pack was made (offline, the last known)
  areaParents: {},       // area id -> parent id, from the pack
};
const OPEN_STATUSES = new Set(["open_verified", "open_reported", "forced_open"]);

const t = (key, ...args) => {
  const v = I18N[state.lang][key];
  return typeof v === "function" ? v(...args) : v;
};
const $ = (id) => document.getElementById(id);

function deviceId() {
  const issued = localStorage.getItem("shelterwatch.device.issued");  // see device.js
  if (issued) return issued;
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
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) {
    el.setAttribute("placeholder", t(el.dataset.i18nPlaceholder));
  }
  const button = $("lang");
  button.textContent = t("langButton");
  // The accessible name starts with the visible text, so voice control finds the button.
  button.setAttribute("aria-label", `${t("langButton")} — ${t("langButtonLabel")}`);
  button.lang = state.lang === "uk" ? "en" : "uk";
  document.title = t("title");
  renderAlert();
  renderResults();
  renderReceipts();
  renderDataAge();
  renderMapNote();
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
  L.tileLayer(CONFIG.tilesUrl, {maxZoom: 19,
    attribution: "© OpenStreetMap contributors"}).addTo(map);
} else {
  // No street map configured: the city's districts (bundled, ODbL) show where things are, and
  // the page says how to add streets. Markers and taps need no background.
  // With a street map (basemap.js) the districts are only lines over the streets.
  fetch("/static/districts.geojson").then((r) => r.json()).then((outline) => {
    state.districts = outline.features;
    L.geoJSON(outline, {interactive: false, style: {color: "#4a5a6a", weight: 1.5,
      fillColor: "#eef2f5", fillOpacity: CONFIG.basemap ? 0 : 0.6}})
      .addTo(map).bringToBack();
  }).catch(() => { /* offline and never cached: dots alone */ });
}
function renderMapNote() {
  $("map-note").textContent = CONFIG.tilesUrl ? "" : CONFIG.basemap ? t("streetsNote")
    : t("noBasemap");
}
const shelterLayer = L.layerGroup().addTo(map);
const resultLayer = L.layerGroup().addTo(map);
let hereMarker = null;

map.on("click", (e) => choose(e.latlng.lat, e.latlng.lng, {how: "tap"}));
$("map").addEventListener("keydown", (e) => {
  if (e.key === "Enter" || e.key === " ") {
    e.preventDefault();
    const c = map.getCenter();
    choose(c.lat, c.lng, {how: "keyboard"});
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
      .on("click", (e) => { L.DomEvent.stopPropagation(e); choose(s.lat, s.lon, {how: "tap"}); })
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
  state.packAlerts = pack.alerts || [];
  state.areaParents = pack.area_parents || {};
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
    {hour: "2-digit", minute: "2-digit", day: "numeric", month: "short",
     timeZone: CONFIG.zone || "Europe/Kyiv"});
  const minutes = Math.max(0, (Date.now() - state.dataAt.getTime()) / 60000);
  const text = t("dataAge", time, t("ago", minutes));
  $("data-age").textContent = text;
  // Offline, the last alert the phone knew of, with its age: never "no alert" from silence.
  const known = lastKnownAlert();
  const alertText = known ? t("offlineAlert", alertWords(known.alert),
                              localClock(new Date(known.alert.started_at)),
                              t("ago", Math.max(0, (Date.now() - known.at) / 60000)))
    : t("offlineNoAlert", t("ago", minutes));
  $("offline-text").textContent = `${t("offline", text)} ${alertText}`;
  $("offline-banner").hidden = online();
  if (!online()) renderAlert();
}

function localClock(date) {
  return date.toLocaleTimeString(state.lang === "uk" ? "uk-UA" : "en-GB",
    {hour: "2-digit", minute: "2-digit", timeZone: CONFIG.zone || "Europe/Kyiv"});
}

/* ---------- ranking ---------- */

/* Rank from a point. `from` says how it was chosen, so the page can say where it ranks from:
 * a position moved by keyboard might be in the river, and the resident must be able to tell. */
async function choose(lat, lon, from = {how: "tap"}) {
  state.point = [lat, lon];
  state.from = from;
  // The server's alert was for the last point; until it answers for this one, the alerts
  // covering this point's area say (alerts.js).
  if (state.alert && !covering([state.alert]).length) state.alert = null;
  if (hereMarker) hereMarker.remove();
  hereMarker = L.marker([lat, lon], {title: t("yourPlace"), alt: t("yourPlace"), keyboard: false})
    .addTo(map);
  await refreshResults();
  fitResults();
  // The answer fills the first screen: scroll to it and put the focus on it.
  const answer = $("answer");
  if (!answer.hidden) {
    // Just below the sticky alert banner, whose height depends on the alert's words.
    const top = answer.getBoundingClientRect().top + window.scrollY
      - $("alert-banner").offsetHeight - 4;
    window.scrollTo({top: Math.max(0, top), behavior: "instant"});
    answer.focus({preventScroll: true});
  }
}

/* Show "you" and the numbered results together. */
function fitResults() {
  if (!state.point || !state.results.length) return;
  const points = [state.point, ...state.results.map((r) => {
    const [lon, lat] = r.shelter.geometry.coordinates;
    return [lat, lon];
  })];
  map.fitBounds(L.latLngBounds(points), {padding: [28, 28], maxZoom: 17, animate: false});
}

async function refreshResults() {
  if (!state.point) return;
  const [lat, lon] = state.point;
  const stepFree = $("step-free").checked;
  let busy = false;  // the server sent the phone to its pack (503): it is busy, not gone
  if (online()) {
    try {
      const q = new URLSearchParams({lat: lat.toFixed(6), lon: lon.toFixed(6), limit: "3",
                                     step_free: String(stepFree)});
      // Holding the pack, the phone can rank without the server: a server busy with the
      // crowd may then answer 503 at once (it takes reports first) and the pack ranks below.
      if (state.shelters.length) q.set("pack", "true");
      // A server slow in the first minute of an alert must not leave the resident waiting:
      // after NEAREST_TIMEOUT_MS the phone ranks its pack (the simulation models the same).
      const response = await fetch(`/v1/nearest?${q}`, {
        cache: "no-store", signal: AbortSignal.timeout(NEAREST_TIMEOUT_MS)});
      if (response.ok) {
        const body = await response.json();
        state.results = body.results;
        state.alert = body.alert;
        if (body.alert) rememberAlert();
        else state.alertHeardAt = Date.now();  // the server says no alert covers this place
        state.source = "server";
        for (const r of body.results) state.statuses.set(r.shelter.id, r.status);
        renderAlert();
        renderResults();
        return;
      }
      busy = response.status === 503;
      if (busy) await heardFromBusy(response);
    } catch (e) { /* the network is gone: rank on the phone */ }
  }
  state.results = Rank.rank(state.shelters, lat, lon, {
    walk: CONFIG.walk, pool: CONFIG.pool, statusClass: CONFIG.statusClass,
    fails: CONFIG.fails,
    statusOf, stepFree, warningS: offlineWarning(), limit: 3,
  });
  state.source = busy ? "busy" : "phone";
  renderAlert();  // the point may be in another area: the alerts covering it now
  renderResults();
}

$("step-free").addEventListener("change", refreshResults);
$("locate").addEventListener("click", () => {
  if (!navigator.geolocation) { $("hint").textContent = t("locateFailed"); return; }
  $("hint").textContent = t("locating");
  navigator.geolocation.getCurrentPosition(
    (pos) => {
      $("hint").textContent = t("hint");
      choose(pos.coords.latitude, pos.coords.longitude, {how: "gps"});
      follow();
    },
    () => { $("hint").textContent = t("locateFailed"); },
    {enableHighAccuracy: true, timeout: 10000, maximumAge: 30000});
});

function localWhy(r) {
  const text = CONFIG.statusText[r.status] || CONFIG.statusText.unknown;
  const parts = [text[state.lang], t("walk", r.walk_s)];
  if (r.reachable_in_time === true) parts.push(t("reachable"));
  if (r.reachable_in_time === false) parts.push(t("notReachable"));
  const readiness = r.shelter.properties.readiness;
  if (readiness && readiness.category && readiness.category !== "ready") {
    parts.push(readinessWords(readiness));
  }
  return parts.join(" · ");
}

function renderResults() {
  const list = $("results");
  list.replaceChildren();
  resultLayer.clearLayers();
  if (!state.point) {
    $("results-title").textContent = t("results");
    $("summary").textContent = t("pickPoint");
    $("nearby-actions").hidden = true;
    $("answer").hidden = true;
    renderReported();
    return;
  }
  // A door sign's shelter first. (A top-level `const` is no property of `window`.)
  if (typeof Pinned !== "undefined") state.results = Pinned.first(state.results);
  const n = state.results.length;
  $("results-title").textContent = n > 1 ? t("alternatives") : t("results");
  $("summary").textContent = state.source === "busy" ? t("foundBusy", n)
    : state.source === "phone" ? t("foundOffline", n) : t("found", n);
  $("nearby-actions").hidden = false;
  $("from").textContent = fromWords();
  if (n) {
    renderAnswer(state.results[0]);
    resultMarker(state.results[0], 0);
  }
  $("answer").hidden = n === 0;
  state.results.slice(1).forEach((r, i) => list.append(resultItem(r, i + 1)));
  renderReported();
  // push.js (opt-in notifications) listens: which shelters this page just sent the resident to
  document.dispatchEvent(new CustomEvent("shelterwatch:results", {detail: {
    point: state.point, lang: state.lang, shown: state.results.map((r) => r.shelter.id)}}));
}

/* Where the ranking starts, in words: found address, GPS, a tap, or the map's centre. */
function fromWords() {
  const f = state.from || {how: "tap"};
  if (f.how === "search") return t("fromSearch", f.label);
  if (f.how === "sign") return t("fromSign", f.label);
  if (f.how === "gps") return t("fromGps");
  const place = placeWords(state.point[0], state.point[1]);
  return f.how === "keyboard" ? t("fromKeyboard", place) : t("fromTap", place);
}

/* "near вул. Антоновича, 10-Б, Голосіївський район": the nearest registry address and the
 * district, so a point moved by keyboard says where it is. */
function placeWords(lat, lon) {
  const near = Rank.nearest(state.shelters, lat, lon, 1)[0];
  const district = districtAt(lat, lon);
  const parts = [];
  if (near) parts.push(t("nearAddress", near.shelter.address, t("metres", near.distance)));
  if (district) parts.push(state.lang === "uk" ? district.name : district.name_en);
  else if (state.districts) parts.push(t("outsideCity"));
  return parts.join(", ");
}

function districtAt(lat, lon) {
  for (const f of state.districts || []) {
    const ring = f.geometry.coordinates[0];
    let inside = false;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i], [xj, yj] = ring[j];
      if ((yi > lat) !== (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi) {
        inside = !inside;
      }
    }
    if (inside) return f.properties;
  }
  return null;
}

/* The shelter this phone reported stays in sight with its status now, even when the new
 * ranking moves it off the list. */
function renderReported() {
  const box = $("reported");
  const id = state.reportedId;
  const shown = state.results.some((r) => r.shelter.id === id);
  const s = id != null && !shown ? state.shelters.find((x) => x.id === id) : null;
  box.hidden = !s;
  box.replaceChildren();
  if (!s) return;
  const status = statusOf(id);
  const p = document.createElement("p");
  p.dataset.shelterId = String(id);
  p.dataset.status = status;
  const badge = document.createElement("span");
  badge.className = `badge st-${status}`;
  badge.textContent = statusWords(status);
  p.append(`${t("youReported")}: ${s.address || s.name} — `, badge);
  box.append(p);
}

function statusWords(status) {
  return (CONFIG.statusText[status] || CONFIG.statusText.unknown)[state.lang];
}

function resultMarker(r, i) {
  const [lon, lat] = r.shelter.geometry.coordinates;
  const status = statusOf(r.shelter.id) || r.status;
  const p = r.shelter.properties;
  const icon = L.divIcon({className: "num-marker", iconSize: [30, 30],
    html: `<span class="num st-${status}" aria-hidden="true">${i + 1}</span>`});
  L.marker([lat, lon], {icon, keyboard: false, title: `${i + 1}. ${p.address || p.name || ""}`})
    .addTo(resultLayer);
}

function resultItem(r, i) {
  const p = r.shelter.properties;
  const status = statusOf(r.shelter.id) || r.status;
  const li = document.createElement("li");
  li.className = "result";
  li.dataset.shelterId = String(r.shelter.id);
  li.dataset.status = status;
  const statusText = (CONFIG.statusText[status] || CONFIG.statusText.unknown)[state.lang];
  const reach = reachWords(r);
  const why = r.why && status === r.status ? r.why[state.lang] : localWhy({...r, status});
  li.innerHTML = `
    <div class="row">
      <span class="badge st-${status}" role="img" aria-label="${t("statusLabel")}: ${statusText}">
        <span aria-hidden="true">${statusText}</span></span>
      <span class="walk">${t("walk", r.walk_s)} · ${t("metres", r.distance_m)}</span>
    </div>
    <h3><span class="n">${i + 1}.</span> <span class="name"></span></h3>
    <p class="address"></p>
    <p class="reach ${reachClass(r)}">${reach}</p>
    <p class="why"></p>
    <div class="reports" role="group"></div>`;
  li.querySelector(".name").textContent = p.name || p.address || `#${r.shelter.id}`;
  li.querySelector(".address").textContent = p.address || "";
  li.querySelector(".why").textContent = why;
  reportButtons(li.querySelector(".reports"), r.shelter.id, p);
  resultMarker(r, i);
  return li;
}

function reportButtons(group, shelterId, p) {
  group.setAttribute("aria-label", t("reportLabel", p.name || p.address || ""));
  for (const [kind, key] of Object.entries(KIND_TO_BUTTON)) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = `report report-${kind}`;
    b.dataset.kind = kind;
    b.textContent = t(key);
    b.setAttribute("aria-label", `${t(key)}: ${t("reportLabel", t("kind")[kind])} — ${p.address || p.name || ""}`);
    b.addEventListener("click", () => report(kind, shelterId));
    group.append(b);
  }
}

function listen() {
  if (!window.EventSource) return;
  const source = new EventSource("/v1/stream");
  source.addEventListener("alert", () => {
    loadActiveAlerts();
    refreshResults();
  });
  // A case moving (keyholder told, patrol on the way, door open) updates the receipts at once.
  source.addEventListener("incident", () => followAll());
  // An audit found no shelter there: off the map and the list at once; a restored one returns
  // with the next pack.
  source.addEventListener("ghost", (e) => {
    const data = JSON.parse(e.data);
    if (data.kind === "shelter.ghosted") {
      const id = Number(data.shelter_id);
      state.shelters = state.shelters.filter((s) => s.id !== id);
      state.results = state.results.filter((r) => r.shelter.id !== id);
      drawShelters();
      renderResults();
    } else {
      loadPack();
    }
    setTimeout(refreshResults, 300);
  });
  source.addEventListener("readiness", (e) => {
    const data = JSON.parse(e.data);
    const shelter = state.shelters.find((s) => s.id === Number(data.shelter_id));
    if (shelter) shelter.readiness = data.readiness;
    setTimeout(refreshResults, 300);
  });
  source.addEventListener("status", (e) => {
    followAll();
    const data = JSON.parse(e.data);
    if (data.shelter_id == null || !data.status) return;
    state.statuses.set(Number(data.shelter_id), data.status);
    // Show the new status at once, then let the server re-rank with it.
    renderResults();
    drawShelters();
    setTimeout(refreshResults, 300);
  });
}
