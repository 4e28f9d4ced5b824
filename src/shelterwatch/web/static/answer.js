/* The answer: the one shelter to go to, first on the screen, and the way to its door.
 *
 * Name, address, status in colour and words, walking time, whether it is reachable in time and
 * one big Go. Below: an arrow that turns with the phone's compass (the bearing in words when
 * there is no compass), a distance that counts down as the position updates, hand-offs to the
 * phone's own navigation app, and the shelter's card. Loaded after app.js, whose state it reads.
 */
"use strict";

let heading = null;        // where the phone's top points, degrees from north; null = unknown
let watchId = null;

function destination(r) {
  const [lon, lat] = r.shelter.geometry.coordinates;
  return {lat, lon};
}

/* From the phone's latest position when it is followed, else from the chosen point. */
function origin() {
  return state.here || state.point;
}

function renderAnswer(r) {
  const card = $("answer-card");
  const p = r.shelter.properties;
  const status = statusOf(r.shelter.id) || r.status;
  const words = statusWords(status);
  const reach = reachWords(r);
  // News redraws the card: a resident reading about the same shelter keeps it unfolded.
  const folded = card.querySelector(".card-details");
  const keepOpen = Boolean(folded && folded.open && card.dataset.shelterId === String(r.shelter.id));
  card.className = "answer-card result first";
  card.dataset.shelterId = String(r.shelter.id);
  card.dataset.status = status;
  card.innerHTML = `
    <div class="row">
      <span class="badge big st-${status}"></span>
      <span class="walk"></span>
    </div>
    <h2 id="answer-title"><span class="n">1.</span> <span class="name"></span></h2>
    <p class="address"></p>
    <p class="reach ${reachClass(r)}"></p>
    <div class="go-row">
      <a class="go" rel="noopener"></a>
      <div class="direction" aria-live="off">
        <span class="arrow" aria-hidden="true">↑</span>
        <span class="bearing"></span>
      </div>
    </div>
    <p class="handoff"></p>
    <p class="why"></p>
    <div class="reports" role="group"></div>
    <details class="card-details"><summary></summary><dl></dl></details>`;
  const badge = card.querySelector(".badge");
  badge.textContent = words;
  badge.setAttribute("role", "img");
  badge.setAttribute("aria-label", `${t("statusLabel")}: ${words}`);
  card.querySelector(".walk").textContent = `${t("walk", r.walk_s)} · ${t("metres", r.distance_m)}`;
  card.querySelector(".name").textContent = p.name || p.address || `#${r.shelter.id}`;
  card.querySelector(".address").textContent = p.address || "";
  card.querySelector(".reach").textContent = reach;
  const why = r.why && status === r.status ? r.why[state.lang] : localWhy({...r, status});
  card.querySelector(".why").textContent = why;
  const {lat, lon} = destination(r);
  const go = card.querySelector(".go");
  // geo: opens the phone's own navigation app, which usually has offline maps.
  go.href = `geo:${lat.toFixed(6)},${lon.toFixed(6)}?q=${lat.toFixed(6)},${lon.toFixed(6)}`
    + `(${encodeURIComponent(p.address || p.name || "")})`;
  go.textContent = t("go");
  go.setAttribute("aria-label", `${t("go")}: ${p.address || p.name || ""}`);
  const handoff = card.querySelector(".handoff");
  handoff.append(`${t("openIn")} `);
  for (const [name, href] of mapLinks(lat, lon)) {
    const a = document.createElement("a");
    a.href = href;
    a.rel = "noopener";
    a.textContent = name;
    handoff.append(a, " ");
  }
  reportButtons(card.querySelector(".reports"), r.shelter.id, p);
  shelterCard(card.querySelector(".card-details"), r.shelter.id, p);
  card.querySelector(".card-details").open = keepOpen;
  renderDirection();
}

/* Links into the common map apps, walking directions to the door. */
function mapLinks(lat, lon) {
  const ll = `${lat.toFixed(6)},${lon.toFixed(6)}`;
  return [
    ["Google Maps", `https://www.google.com/maps/dir/?api=1&destination=${ll}&travelmode=walking`],
    ["Apple Maps", `https://maps.apple.com/?daddr=${ll}&dirflg=w`],
    ["OsmAnd", `https://osmand.net/map?pin=${ll}#17/${lat.toFixed(5)}/${lon.toFixed(5)}`],
  ];
}

/* The shelter card: what the registry says about the place, and its last word. */
function shelterCard(details, id, p) {
  const s = state.shelters.find((x) => x.id === id) || p;
  const card = s.card || p.card || {};
  details.querySelector("summary").textContent = t("cardTitle");
  const dl = details.querySelector("dl");
  const rows = [
    [t("cardKind"), t("shelterKind")[s.kind] || s.kind],
    [t("cardCapacity"), s.capacity != null ? t("people", s.capacity) : t("notStated")],
    [t("cardStepFree"), s.step_free === true ? t("yes") : s.step_free === false ? t("no")
                                                       : t("notStated")],
    [t("cardFacilities"), (s.facilities || []).length
      ? s.facilities.map((f) => t("facility")[f] || f).join(", ") : t("notStated")],
    [t("cardPets"), card.pets_allowed === "yes" ? t("yes") : card.pets_allowed === "no" ? t("no")
                                                            : t("notStated")],
    [t("cardEntrances"), card.entrances || t("notStated")],
    [t("cardHours"), s.obligation === "24_7" ? t("open247") : t("openOnAlert")],
    [t("cardRegistry"), [t("registrySource")[s.source] || s.source || t("notStated"),
                         card.registry_date ? t("registryDate", isoDay(card.registry_date)) : ""]
      .filter(Boolean).join(", ")],
    [t("cardVerified"), online() ? "…" : t("verifiedOffline"), "verified"],
  ];
  for (const [k, v, field] of rows) {
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = v;
    if (field) dd.dataset.field = field;
    dl.append(dt, dd);
  }
  // The owner's number from the door sign, where the registry publishes it (never a keyholder's).
  if (card.sign_phone) {
    const dt = document.createElement("dt");
    dt.textContent = t("cardSignPhone");
    const dd = document.createElement("dd");
    const a = document.createElement("a");
    a.href = `tel:${card.sign_phone.replace(/[^+\d]/g, "")}`;
    a.textContent = card.sign_phone;
    dd.append(a);
    dl.append(dt, dd);
  }
  if (online()) lastVerified(dl.querySelector("[data-field='verified']"), id);
  // Readiness from the last audits, with the reasons in the page's language ("no water").
  const category = s.readiness && s.readiness.category;
  if (category) {
    const dt = document.createElement("dt");
    dt.textContent = t("cardReadiness");
    const dd = document.createElement("dd");
    dd.dataset.readiness = category;
    dd.textContent = readinessWords(s.readiness);
    dl.append(dt, dd);
  }
}

/* "25 лют 2022": a registry's date, a calendar day (no zone to convert). */
function isoDay(day) {
  const [y, m, d] = day.split("-").map(Number);
  return y && m && d ? `${d} ${t("months")[m - 1]} ${y}` : day;
}

/* "Last verified open": when and by which role (never who), from the server. */
async function lastVerified(dd, id) {
  try {
    const response = await fetch(`/v1/shelters/${id}/card`, {cache: "no-store"});
    if (!response.ok) return;
    const v = (await response.json()).last_verified_open;
    dd.dataset.role = v ? v.role : "none";
    dd.textContent = v ? t("verifiedBy", new Date(v.at).toLocaleString(
      state.lang === "uk" ? "uk-UA" : "en-GB",
      {day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
       timeZone: CONFIG.zone || "Europe/Kyiv"}), t("role")[v.role] || v.role)
      : t("noVerifiedYet");
  } catch (e) { dd.textContent = t("verifiedOffline"); }
}

/* The arrow and the words: "230 m north-east", turned by the compass when there is one. */
function renderDirection() {
  const card = $("answer-card");
  const r = state.results[0];
  if (!r || !card.querySelector(".direction")) return;
  const [lat0, lon0] = origin();
  const {lat, lon} = destination(r);
  const deg = Geo.bearing(lat0, lon0, lat, lon);
  const metres = Rank.distance(lat0, lon0, lat, lon);
  const angle = Geo.arrowAngle(deg, heading);
  const arrow = card.querySelector(".arrow");
  arrow.style.transform = `rotate(${angle}deg)`;
  arrow.dataset.angle = String(angle);
  const dir = card.querySelector(".direction");
  dir.dataset.bearing = String(Math.round(deg));
  dir.dataset.distance = String(Math.round(metres));
  dir.dataset.compass = heading == null ? "none" : "live";
  card.querySelector(".bearing").textContent = metres < 15 ? t("atTheDoor")
    : t("bearingWords", t("metres", metres), t("compass")[Geo.point8(deg)]);
}

function onOrientation(event) {
  const h = Geo.headingOf(event);
  if (h == null) return;
  heading = h;
  renderDirection();
}
window.addEventListener("deviceorientationabsolute", onOrientation);
window.addEventListener("deviceorientation", onOrientation);

/* After "Locate me", keep following the phone: the distance counts down as it walks. */
function follow() {
  if (!navigator.geolocation || watchId !== null) return;
  watchId = navigator.geolocation.watchPosition((pos) => {
    state.here = [pos.coords.latitude, pos.coords.longitude];
    renderDirection();
  }, () => { /* keep the last position */ }, {enableHighAccuracy: true, maximumAge: 5000});
}

/* "не готове: немає води, немає входу без сходів" from a shelter's `readiness`. */
function readinessWords(readiness) {
  const category = readiness && readiness.category;
  if (!category) return "";
  const words = t("readiness")[category] || category;
  const reasons = (readiness.reasons || []).filter((r) => r.severity !== "minor")
    .slice(0, 3).map((r) => r[state.lang] || r.en);
  return reasons.length ? `${words}: ${reasons.join(", ")}` : words;
}
