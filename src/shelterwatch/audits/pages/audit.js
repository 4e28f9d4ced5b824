/* The inspectors' page: the campaign's shelters and the checklist kept on the phone, an audit
 * filled in with or without network, its photos downscaled here (<= 1600 px, <= 500 KB), the GPS
 * fix's accuracy shown and flagged past 30 m, and every audit saved to a queue first and sent
 * from there with its own Idempotency-Key: one sent three times is one record.
 */
"use strict";

const KEYS = {token: "shelterwatch.audit.token", checklist: "shelterwatch.audit.checklist",
              worklist: "shelterwatch.audit.worklist", queue: "shelterwatch.audit.queue"};
const MAX_PX = 1600, MAX_BYTES = 500000, FLAG_M = 30;
const state = {checklist: null, worklist: null, shelter: null, photos: new Map(), fix: null};
const $ = (id) => document.getElementById(id);

function stored(key) {
  try { return JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { return null; }
}
function store(key, value) { localStorage.setItem(key, JSON.stringify(value)); }
function token() { return localStorage.getItem(KEYS.token) || ""; }
function newKey() {
  if (self.crypto && crypto.randomUUID) return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

async function getJSON(url) {
  const response = await fetch(url, {headers: {Authorization: `Bearer ${token()}`}});
  if (!response.ok) throw new Error(`${response.status}`);
  return response.json();
}

async function loadChecklist() {
  try {
    state.checklist = await getJSON("/v1/checklist");
    store(KEYS.checklist, state.checklist);
  } catch (e) {
    state.checklist = stored(KEYS.checklist);  // offline: the copy from the last visit
  }
}

async function loadCampaign(id, group) {
  const url = `/v1/campaigns/${encodeURIComponent(id)}/worklist`
    + (group ? `?group=${encodeURIComponent(group)}` : "");
  try {
    state.worklist = await getJSON(url);
    store(KEYS.worklist, state.worklist);
    $("campaign-state").textContent = `${state.worklist.shelters.length} укриттів / shelters`;
  } catch (e) {
    state.worklist = stored(KEYS.worklist);
    $("campaign-state").textContent = state.worklist
      ? "Без мережі: збережений список / Offline: the saved list"
      : "Список недоступний / List not available";
  }
  renderShelters();
}

function renderShelters() {
  const list = $("shelters");
  list.replaceChildren();
  for (const s of (state.worklist && state.worklist.shelters) || []) {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.shelterId = String(s.id);
    button.textContent = `#${s.id} ${s.name || ""} — ${s.address || ""}`;
    button.addEventListener("click", () => openShelter(s));
    const due = document.createElement("span");
    due.className = "muted";
    due.textContent = ` до / due ${String(s.due || "").slice(0, 10)}`
      + (s.category ? ` · ${s.category}` : "");
    li.append(button, due);
    list.append(li);
  }
}

function asked(item, kind, tier) {
  return (item.kinds.includes("*") || item.kinds.includes(kind))
    && (tier === "full" || item.quick);
}

function openShelter(s) {
  state.shelter = s;
  state.photos = new Map();
  state.fix = null;
  $("shelter-title").textContent = `#${s.id} ${s.name || ""}`;
  $("shelter-address").textContent = `${s.address || ""} · ${s.kind}`
    + (s.capacity != null ? ` · місткість ${s.capacity}` : "");
  $("gps").textContent = "";
  $("form-msg").textContent = "";
  $("note").value = "";
  $("campaign-box").hidden = true;
  $("audit-form").hidden = false;
  renderItems();
  locate();
}

function renderItems() {
  const box = $("items");
  box.replaceChildren();
  const kind = state.shelter.kind, tier = $("tier").value;
  let group = null, fieldset = null;
  for (const item of state.checklist.items) {
    if (!asked(item, kind, tier)) continue;
    if (item.group !== group) {
      group = item.group;
      fieldset = document.createElement("fieldset");
      const legend = document.createElement("legend");
      legend.textContent = group;
      fieldset.append(legend);
      box.append(fieldset);
    }
    fieldset.append(itemRow(item));
  }
}

function itemRow(item) {
  const div = document.createElement("div");
  div.className = `item ${item.severity}`;
  div.dataset.item = item.id;
  const label = document.createElement("div");
  label.className = "label";
  label.id = `label-${item.id}`;
  label.textContent = `${item.label.uk} / ${item.label.en}`;
  const clause = document.createElement("div");
  clause.className = "clause";
  clause.textContent = item.clause;
  div.append(label, clause);
  if (item.answer_type === "number") {
    const input = document.createElement("input");
    input.type = "number";
    input.min = "0";
    input.step = "any";
    input.name = item.id;
    input.setAttribute("aria-labelledby", label.id);
    div.append(input);
    return div;
  }
  const marks = document.createElement("div");
  marks.className = "marks";
  marks.setAttribute("role", "radiogroup");
  marks.setAttribute("aria-labelledby", label.id);
  for (const [value, words] of [["pass", "так / pass"], ["fail", "ні / fail"],
                                ["na", "не стосується / n/a"]]) {
    const l = document.createElement("label");
    const radio = document.createElement("input");
    radio.type = "radio";
    radio.name = item.id;
    radio.value = value;
    radio.addEventListener("change", () => {
      photo.hidden = value !== "fail";
    });
    l.append(radio, ` ${words}`);
    marks.append(l);
  }
  const photo = document.createElement("label");
  photo.className = "photo";
  photo.hidden = true;
  const file = document.createElement("input");
  file.type = "file";
  file.accept = "image/*";
  file.setAttribute("capture", "environment");
  file.dataset.item = item.id;
  file.addEventListener("change", () => takePhoto(item.id, file));
  photo.append(`Фото порушення / Photo of the fail (${item.fail_label.en}) `, file);
  div.append(marks, photo);
  return div;
}

/* Downscale on the phone: at most 1600 px on the long side and 500 KB, as JPEG. */
async function downscale(file) {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, MAX_PX / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(bitmap.width * scale));
  canvas.height = Math.max(1, Math.round(bitmap.height * scale));
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  for (let quality = 0.85; quality > 0.2; quality -= 0.15) {
    const blob = await new Promise((done) => canvas.toBlob(done, "image/jpeg", quality));
    if (blob.size <= MAX_BYTES) return {blob, width: canvas.width, height: canvas.height};
  }
  throw new Error("photo too large even at low quality");
}

function base64(blob) {
  return new Promise((done, fail) => {
    const reader = new FileReader();
    reader.onload = () => done(String(reader.result).split(",", 2)[1]);
    reader.onerror = () => fail(reader.error);
    reader.readAsDataURL(blob);
  });
}

async function takePhoto(itemId, input) {
  const file = input.files && input.files[0];
  if (!file) return;
  try {
    const small = await downscale(file);
    state.photos.set(itemId, {data: await base64(small.blob), width: small.width,
                              height: small.height, bytes: small.blob.size});
    input.dataset.taken = "1";
  } catch (e) {
    $("form-msg").textContent = `Фото не вдалося / Photo failed: ${e.message}`;
  }
}

function locate() {
  if (!navigator.geolocation) return;
  $("gps").textContent = "…";
  navigator.geolocation.getCurrentPosition((pos) => {
    const c = pos.coords;
    state.fix = {lat: c.latitude, lon: c.longitude, accuracy_m: c.accuracy};
    const flagged = c.accuracy > FLAG_M;
    $("gps").textContent = `±${Math.round(c.accuracy)} м`
      + (flagged ? ` — неточно (> ${FLAG_M} м) / inaccurate` : "");
    $("gps").className = flagged ? "flag" : "";
  }, () => { $("gps").textContent = "GPS недоступний / no GPS fix"; },
  {enableHighAccuracy: true, timeout: 15000, maximumAge: 0});
}

function collect() {
  const kind = state.shelter.kind, tier = $("tier").value;
  const answers = {}, missing = [], unpictured = [];
  for (const item of state.checklist.items) {
    if (!asked(item, kind, tier)) continue;
    if (item.answer_type === "number") {
      const input = document.querySelector(`input[name="${item.id}"]`);
      if (input.value !== "") answers[item.id] = Number(input.value);
      else if (tier === "full") missing.push(item.id);
      continue;
    }
    const checked = document.querySelector(`input[name="${item.id}"]:checked`);
    if (checked) answers[item.id] = checked.value;
    else if (tier === "full") missing.push(item.id);
    if (answers[item.id] === "fail" && !state.photos.has(item.id)) unpictured.push(item.id);
  }
  const ghost = answers.exists === "fail" || answers.used_as_shelter === "fail";
  return {answers, missing: ghost ? [] : missing, unpictured};
}

function save(event) {
  event.preventDefault();
  const {answers, missing, unpictured} = collect();
  if (missing.length) {
    $("form-msg").textContent = `Не заповнено / Not answered: ${missing.join(", ")}`;
    return;
  }
  if (unpictured.length) {
    $("form-msg").textContent = `Потрібне фото / A photo is needed: ${unpictured.join(", ")}`;
    return;
  }
  const body = {shelter_id: state.shelter.id, tier: $("tier").value, answers,
                photos: [...state.photos].filter(([id]) => answers[id] === "fail")
                  .map(([id, p]) => ({item_id: id, data: p.data})),
                campaign_id: state.worklist ? state.worklist.campaign.id : null,
                note: $("note").value || null};
  if (state.fix) Object.assign(body, state.fix);
  const queue = stored(KEYS.queue) || [];
  queue.push({key: newKey(), body, made_at: new Date().toISOString(), state: "queued",
              shelter: `#${state.shelter.id} ${state.shelter.name || ""}`});
  store(KEYS.queue, queue);
  $("audit-form").hidden = true;
  $("campaign-box").hidden = false;
  renderQueue();
  flush();
}

let flushing = null;
function flush() {
  if (!flushing) flushing = sendQueued().finally(() => { flushing = null; });
  return flushing;
}

async function sendQueued() {
  for (const item of stored(KEYS.queue) || []) {
    if (item.state !== "queued") continue;
    let response;
    try {
      response = await fetch("/v1/audits", {method: "POST", body: JSON.stringify(item.body),
        headers: {"Content-Type": "application/json", "Idempotency-Key": item.key,
                  Authorization: `Bearer ${token()}`}});
    } catch (e) {
      break;  // no network: everything waits, in order
    }
    if (response.status === 401 || response.status === 429 || response.status >= 500) break;
    const answer = await response.json().catch(() => ({}));
    const queue = (stored(KEYS.queue) || []).map((x) => (x.key !== item.key ? x
      : response.ok ? {...x, state: "sent", audit_id: answer.id, category: answer.category,
                       body: null}
        : {...x, state: "refused", detail: answer.detail || String(response.status)}));
    store(KEYS.queue, queue);
    renderQueue();
  }
  renderQueue();
}

function renderQueue() {
  const queue = stored(KEYS.queue) || [];
  const pending = queue.filter((x) => x.state === "queued").length;
  $("queue-state").dataset.pending = String(pending);
  $("queue-state").textContent = pending
    ? `Чекають на мережу / Waiting for network: ${pending}`
    : "Усе надіслано / Everything sent";
  const list = $("queue");
  list.replaceChildren();
  for (const item of queue.slice(-20).reverse()) {
    const li = document.createElement("li");
    li.dataset.state = item.state;
    li.dataset.key = item.key;
    li.textContent = `${item.shelter} — ${item.state}`
      + (item.audit_id ? ` (акт / act ${item.audit_id}, ${item.category || "—"})` : "")
      + (item.detail ? `: ${item.detail}` : "");
    list.append(li);
  }
}

function showNet() {
  $("net").textContent = navigator.onLine ? "" : " · без мережі / offline";
}

async function start() {
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/audit/sw.js", {scope: "/audit/"}).catch(() => {});
  }
  $("login").addEventListener("submit", (e) => {
    e.preventDefault();
    localStorage.setItem(KEYS.token, $("token").value.trim());
    $("login").hidden = true;
    $("campaign-box").hidden = false;
    loadChecklist();
  });
  $("campaign-form").addEventListener("submit", (e) => {
    e.preventDefault();
    loadCampaign($("campaign").value.trim(), $("group").value.trim());
  });
  $("tier").addEventListener("change", renderItems);
  $("locate").addEventListener("click", locate);
  $("audit-form").addEventListener("submit", save);
  $("back").addEventListener("click", () => {
    $("audit-form").hidden = true;
    $("campaign-box").hidden = false;
  });
  window.addEventListener("online", () => { showNet(); flush(); });
  window.addEventListener("offline", showNet);
  setInterval(flush, 5000);
  showNet();
  if (!token()) {
    $("login").hidden = false;
  } else {
    $("campaign-box").hidden = false;
    await loadChecklist();
    state.worklist = stored(KEYS.worklist);
    if (state.worklist) {
      $("campaign").value = String(state.worklist.campaign.id);
      renderShelters();
    }
  }
  renderQueue();
  flush();
  document.body.dataset.ready = "1";
}

start();
