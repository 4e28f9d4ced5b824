/* What the phone knows of the alert in force, and how the page says it.
 *
 * The resident's life-safety question is "is there an alert, and will I make it?": the banner
 * and each card's reach line answer it from what the server said (a look-up's `alert`, even in
 * a busy server's 503; the list of alerts; the stream), or offline from the last alert the phone
 * heard of with its age. "No alert" only once the server has said so: silence is "checking" or
 * "unknown", never calm. Loaded after app.js, whose state it reads.
 */
"use strict";

/* Whether the server has said that no alert covers this resident (offline it cannot know). */
function calmSaid() {
  return online() && state.alertHeardAt != null && !shownAlert();
}

/* Whether the walk fits the warning, in words. "No alert" only when the server said so: a
 * ranking without a warning time may come from a phone that has not heard, or is offline. */
function reachWords(r) {
  if (r.reachable_in_time === true) return t("reachable");
  if (r.reachable_in_time === false) return t("notReachable");
  if (calmSaid()) return t("noAlertReach");
  return shownAlert() ? t("warningUnknownReach") : t("alertUnknownReach");
}

/* The reach line's colour: red when late, grey when the words say something is unknown. */
function reachClass(r) {
  if (r.reachable_in_time === false) return "late";
  return r.reachable_in_time === true || calmSaid() ? "" : "unknown";
}

/* The alert the banner shows: the live one, or offline the last one the phone knew of. */
function shownAlert() {
  if (online()) return state.alert || covering(state.activeAlerts)[0] || null;
  const known = lastKnownAlert();
  return known ? known.alert : null;
}

// areasFor's answer for the point, pack and tree it was worked out from: a render asks
// several times, and a country's pack is 65,000 shelters.
let areasMemo = {point: undefined, shelters: null, parents: null, areas: null};

function areasHere() {
  const m = areasMemo;
  if (m.point === state.point && m.shelters === state.shelters && m.parents === state.areaParents) {
    return m.areas;
  }
  areasMemo = {point: state.point, shelters: state.shelters, parents: state.areaParents,
               areas: areasFor()};
  return areasMemo.areas;
}

/* The areas an alert must be on to cover this resident: the chosen point's nearest shelter's
 * area and its ancestors, walked on the pack's area tree; before a point is chosen, every area
 * the registry has shelters in (the pack's `area_parents` holds exactly those and their
 * ancestors). A feed reports every oblast: an alert in Lviv is no alert for a street in Kyiv.
 * Null when the pack brought no tree (nothing to tell by). */
function areasFor() {
  const parents = state.areaParents;
  if (!parents || !Object.keys(parents).length) return null;
  const near = state.point && state.shelters.length
    ? Rank.nearest(state.shelters, state.point[0], state.point[1], 1)[0] : null;
  if (!near || near.shelter.area_id == null) return new Set(Object.keys(parents));
  const chain = new Set();
  for (let a = String(near.shelter.area_id); a != null && !chain.has(a);
       a = parents[a] == null ? null : String(parents[a])) {
    chain.add(a);
  }
  return chain;
}

/* The alerts of `alerts` that cover this resident (all of them when that cannot be told). */
function covering(alerts) {
  const here = areasHere();
  return here ? alerts.filter((a) => a && here.has(String(a.area_id))) : alerts;
}

function alertWords(a) {
  const type = t("alertType")[a.type] || t("alert");
  const threat = a.threat ? ` · ${t("threat")[a.threat] || a.threat}` : "";
  const warn = a.warning_s != null ? ` · ${t("warning", a.warning_s)}` : "";
  return `${type}${threat}${warn}`;
}

function renderAlert() {
  const banner = $("alert-banner");
  // Offline the phone cannot know the alert ended: it shows the last one it knew of.
  const a = shownAlert();
  if (!a) {
    // Calm only once the server said so; until then (or offline) the state is unknown.
    const heard = calmSaid();
    banner.className = heard ? "banner calm" : "banner unknown";
    $("alert-text").textContent = !online() ? t("noAlertKnown")
      : heard ? t("noAlert") : state.alertAskFailed ? t("alertUnknown") : t("alertChecking");
    return;
  }
  banner.className = "banner alarm";
  const since = a.started_at ? ` · ${t("since", localClock(new Date(a.started_at)))}` : "";
  $("alert-text").textContent = alertWords(a) + since;
}

function rememberAlert() {
  const a = state.alert || covering(state.activeAlerts)[0] || null;
  state.alertHeardAt = Date.now();
  localStorage.setItem("shelterwatch.lastAlert",
                       JSON.stringify({alert: a, at: new Date().toISOString()}));
}

async function loadActiveAlerts() {
  try {
    const response = await fetch("/v1/alerts/active", {cache: "no-store"});
    if (response.ok) {
      const body = await response.json();
      state.activeAlerts = Array.isArray(body) ? body : (body.alerts || body.items || []);
      rememberAlert();
      renderAlert();
      return;
    }
  } catch (e) { /* offline: keep the last known */ }
  state.alertAskFailed = true;  // the banner then says the state is unknown, never calm
  renderAlert();
}

/* The newest alert the phone heard of — live over the stream or in the pack — and when. */
function lastKnownAlert() {
  const live = state.alert || covering(state.activeAlerts)[0];
  if (live && state.alertHeardAt) return {alert: live, at: state.alertHeardAt};
  const saved = JSON.parse(localStorage.getItem("shelterwatch.lastAlert") || "null");
  const fromPack = covering(state.packAlerts)[0];
  if (fromPack && (!saved || Date.parse(saved.at) < state.dataAt.getTime())) {
    return {alert: fromPack, at: state.dataAt.getTime()};
  }
  if (saved && saved.alert && covering([saved.alert]).length) {
    return {alert: saved.alert, at: Date.parse(saved.at)};
  }
  return null;
}

/* A server giving way to reports still says which alert is in force here (`alert`), so the
 * pack is ranked against its warning time; a 503 from anything else says nothing of alerts. */
async function heardFromBusy(response) {
  let body = null;
  try { body = await response.json(); } catch (e) { return; }
  if (!body || !("alert" in body)) return;
  state.alert = body.alert;
  if (body.alert) rememberAlert();
  else state.alertHeardAt = Date.now();
  renderAlert();
}

/* Offline, the warning time of the last alert the phone knew of (null: none known). */
function offlineWarning() {
  if (state.alert) return state.alert.warning_s;
  const known = lastKnownAlert();
  return known && known.alert.warning_s != null ? known.alert.warning_s : null;
}
