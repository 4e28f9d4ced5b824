/* One-tap reports and the outbox: every report is stored on the phone first, with its
 * Idempotency-Key, and sent from there, so one made offline is delivered once when the network
 * returns. Loaded after app.js, whose helpers (state, t, $, online) it uses.
 */
"use strict";

function readList(key) {
  try { return JSON.parse(localStorage.getItem(key) || "[]"); } catch (e) { return []; }
}
function writeList(key, list) { localStorage.setItem(key, JSON.stringify(list)); }

function report(kind, shelterId) {
  const [lat, lon] = state.point || [null, null];
  const item = {key: newKey(), kind, shelter_id: shelterId, lat, lon, device_id: deviceId(),
                made_at: new Date().toISOString(), state: "queued"};
  const receipts = readList(RECEIPTS_KEY);
  receipts.unshift(item);
  writeList(RECEIPTS_KEY, receipts.slice(0, 20));
  writeList(OUTBOX_KEY, [...readList(OUTBOX_KEY), item]);
  renderReceipts();
  flushOutbox();
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
  const body = {shelter_id: item.shelter_id, kind: item.kind, device_id: item.device_id};
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
    }
  } finally {
    flushing = false;
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
    } else {
      text.textContent = online() ? t("sending") : t("queued");
    }
    li.prepend(what, text);
    const steps = nextStepsText(item.next_steps);
    if (steps) {
      const p = document.createElement("p");
      p.className = "next-steps";
      p.textContent = steps;
      li.append(p);
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
setInterval(() => { flushOutbox(); renderDataAge(); }, 15000);

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js").catch(() => { /* the page works without it */ });
}

applyLanguage();
loadPack().then(() => { document.body.dataset.ready = "1"; });
loadActiveAlerts();
listen();
flushOutbox();
