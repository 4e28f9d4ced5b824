/* One-tap reports and the outbox: every report is stored on the phone first, with its
 * Idempotency-Key, and sent from there, so one made offline is delivered once when the network
 * returns. Loaded after app.js, whose helpers (state, t, $, online) it uses.
 */
"use strict";

function readList(key) {
  try { return JSON.parse(localStorage.getItem(key) || "[]"); } catch (e) { return []; }
}
function writeList(key, list) { localStorage.setItem(key, JSON.stringify(list)); }

// One tap sends; a second tap on the same button within the window is the same report, and
// the receipt offers "Undo" until the window closes (a pocket tap can be taken back).
const HOLD_MS = 4000;

function report(kind, shelterId) {
  const [lat, lon] = state.point || [null, null];
  const now = Date.now();
  const twin = readList(OUTBOX_KEY).find((x) => x.kind === kind && x.shelter_id === shelterId
                                         && now - Date.parse(x.made_at) < HOLD_MS);
  if (twin) return;  // a double tap: already on its way
  const item = {key: newKey(), kind, shelter_id: shelterId, lat, lon, device_id: deviceId(),
                made_at: new Date(now).toISOString(), hold_until: now + HOLD_MS,
                state: "queued"};
  const receipts = readList(RECEIPTS_KEY);
  receipts.unshift(item);
  writeList(RECEIPTS_KEY, receipts.slice(0, 20));
  writeList(OUTBOX_KEY, [...readList(OUTBOX_KEY), item]);
  if (shelterId != null) {
    state.reportedId = shelterId;
    localStorage.setItem("shelterwatch.reported", String(shelterId));
  }
  renderReceipts();
  setTimeout(flushOutbox, HOLD_MS + 50);
  holdTicker();
}

function undo(key) {
  const still = readList(OUTBOX_KEY).some((x) => x.key === key && Date.now() < x.hold_until);
  if (!still) return;
  writeList(OUTBOX_KEY, readList(OUTBOX_KEY).filter((x) => x.key !== key));
  writeList(RECEIPTS_KEY, readList(RECEIPTS_KEY).map(
    (x) => (x.key === key ? {...x, state: "undone"} : x)));
  renderReceipts();
}

let ticker = null;
function holdTicker() {
  if (ticker) return;
  ticker = setInterval(() => {
    renderReceipts();
    if (!readList(OUTBOX_KEY).some((x) => Date.now() < (x.hold_until || 0))) {
      clearInterval(ticker);
      ticker = null;
    }
  }, 1000);
}

$("no-shelter").addEventListener("click", () => report("no_shelter_nearby", null));

function reportRequest(item) {
  const headers = {"Idempotency-Key": item.key};
  if (item.kind === "no_shelter_nearby") {
    const form = new URLSearchParams({service_code: "no_shelter_nearby",
      lat: String(item.lat), long: String(item.lon), device_id: item.device_id});
    return fetch("/open311/v2/requests.json", {method: "POST", body: form,
      headers: {...headers, "Content-Type": "application/x-www-form-urlencoded"}});
  }
  // made_at: a report queued offline keeps the time it was made (the server bounds it).
  const body = {shelter_id: item.shelter_id, kind: item.kind, device_id: item.device_id,
                made_at: item.made_at};
  // One tap has no room for a form; the reason says how it was sent, staff ask for details.
  if (item.kind === "unfit") body.reason = "one-tap report from the resident page";
  if (item.lat != null) Object.assign(body, {lat: item.lat, lon: item.lon});
  return fetch("/v1/reports", {method: "POST", body: JSON.stringify(body),
    headers: {...headers, "Content-Type": "application/json"}});
}

function trackingIdOf(body) {
  if (Array.isArray(body)) body = body[0] || {};
  return body.tracking_id || body.service_request_id || body.token || "";
}

let flushing = false;
async function flushOutbox() {
  if (flushing || !online()) return;
  flushing = true;
  try {
    for (const item of readList(OUTBOX_KEY)) {
      if (Date.now() < (item.hold_until || 0)) continue;  // still inside its undo window
      let response;
      try {
        response = await reportRequest(item);
      } catch (e) {
        break;  // no network after all; keep the rest queued
      }
      let body = {};
      try { body = await response.json(); } catch (e) { /* not JSON */ }
      const update = response.ok
        ? {state: "sent", tracking_id: trackingIdOf(body), status: body.status,
           next_steps: body.next_steps}
        : response.status >= 500 || response.status === 429 ? null
        : {state: "failed", detail: body.detail || body.description || String(response.status)};
      if (update === null) break;  // the server is struggling; try again later
      writeList(OUTBOX_KEY, readList(OUTBOX_KEY).filter((x) => x.key !== item.key));
      writeList(RECEIPTS_KEY, readList(RECEIPTS_KEY).map(
        (x) => (x.key === item.key ? {...x, ...update} : x)));
      renderReceipts();
      if (update.tracking_id) followCase(update.tracking_id);
    }
  } finally {
    flushing = false;
  }
}

/* Keep each receipt true as its case moves: who was reached, and whether it is closed. */
async function followCase(trackingId) {
  if (!online() || !trackingId) return;
  try {
    const r = await fetch(`/v1/reports/${encodeURIComponent(trackingId)}/progress`,
                          {cache: "no-store"});
    if (!r.ok) return;
    const p = await r.json();
    const progress = {case: p.incident ? p.incident.state : null,
                      resolution: p.incident ? p.incident.resolution : null,
                      status: p.status ? p.status.status : null,
                      reach: p.reach.map((x) => ({state: x.state, who: x.who, text: x.text}))};
    writeList(RECEIPTS_KEY, readList(RECEIPTS_KEY).map(
      (x) => (x.tracking_id === trackingId ? {...x, progress} : x)));
    if (progress.status && p.shelter && statusOf(p.shelter.id) !== progress.status) {
      // The phone learns of a new status here first: show it, and rank again with it.
      state.statuses.set(p.shelter.id, progress.status);
      refreshResults();
    }
    renderReceipts();
  } catch (e) { /* offline: the receipt keeps its last known state */ }
}

function followAll() {
  for (const x of readList(RECEIPTS_KEY)) {
    if (x.state === "sent" && x.tracking_id && !(x.progress && x.progress.case === "resolved")) {
      followCase(x.tracking_id);
    }
  }
}

function nextStepsText(steps) {
  if (!steps) return "";
  if (typeof steps === "string") return steps;
  if (Array.isArray(steps)) return steps.map(nextStepsText).join(" ");
  return steps[state.lang] || steps.en || steps.uk || "";
}

function renderReceipts() {
  const list = $("receipts");
  list.replaceChildren();
  for (const item of readList(RECEIPTS_KEY)) {
    const li = document.createElement("li");
    li.className = `receipt ${item.state}`;
    li.dataset.state = item.state;
    li.dataset.key = item.key;
    const what = document.createElement("strong");
    what.textContent = (t("kind")[item.kind] || item.kind) + ": ";
    const text = document.createElement("span");
    text.className = "receipt-text";
    const holding = item.state === "queued" && Date.now() < (item.hold_until || 0);
    if (item.state === "sent") {
      text.textContent = t("receipt", item.tracking_id);
      if (item.tracking_id) {
        const id = document.createElement("span");
        id.className = "tracking-id";
        id.hidden = true;
        id.textContent = item.tracking_id;
        li.append(id);
      }
    } else if (item.state === "failed") {
      text.textContent = t("failed", item.detail);
    } else if (item.state === "undone") {
      text.textContent = t("undone");
    } else if (holding) {
      text.textContent = t("holding", Math.ceil((item.hold_until - Date.now()) / 1000));
    } else {
      text.textContent = online() ? t("sending") : t("queued");
    }
    li.prepend(what, text);
    if (holding) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "undo";
      b.textContent = t("undo");
      b.addEventListener("click", () => undo(item.key));
      li.append(" ", b);
    }
    const progress = item.progress;
    if (progress && progress.reach.length) {
      const ul = document.createElement("ul");
      ul.className = "reach-list";
      for (const line of progress.reach) {
        const x = document.createElement("li");
        x.dataset.who = line.who;
        x.dataset.state = line.state;
        x.textContent = line.text[state.lang];
        ul.append(x);
      }
      li.append(ul);
    }
    if (progress && progress.case === "resolved") {
      const p = document.createElement("p");
      p.className = "case-closed";
      p.textContent = t("caseClosed", item.tracking_id,
                        t("resolution")[progress.resolution] || progress.resolution);
      li.append(p);
    } else {
      const steps = nextStepsText(item.next_steps);
      if (steps) {
        const p = document.createElement("p");
        p.className = "next-steps";
        p.textContent = steps;
        li.append(p);
      }
    }
    if (item.state === "sent" && item.tracking_id) {
      const a = document.createElement("a");
      a.href = `/t/${encodeURIComponent(item.tracking_id)}`;
      a.className = "track-link";
      a.textContent = `${t("track")} ${item.tracking_id}`;
      li.append(a);
    }
    list.append(li);
  }
}

/* ---------- start: after every script has loaded ---------- */

window.addEventListener("online", () => {
  renderDataAge();
  renderReceipts();
  flushOutbox();
  loadPack();
  refreshResults();
});
window.addEventListener("offline", () => {
  renderDataAge();
  renderReceipts();
});
setInterval(() => { flushOutbox(); renderDataAge(); followAll(); }, 15000);


if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js").catch(() => { /* the page works without it */ });
}

state.reportedId = Number(localStorage.getItem("shelterwatch.reported")) || null;
applyLanguage();
loadPack().then(() => { document.body.dataset.ready = "1"; });
followAll();
loadActiveAlerts();
listen();
flushOutbox();
