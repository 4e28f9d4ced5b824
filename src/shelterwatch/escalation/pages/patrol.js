// The patrol's phone: take a task, record open / locked / forced open with the position.
"use strict";
const $ = (id) => document.getElementById(id);
let token = localStorage.getItem("sw_patrol_token") || "";
let position = null;
let pressed = null;  // the key of the button in flight: disabling it blurs it
let asked = 0, shown = 0;  // task-list requests issued, and the newest one rendered

const STATES = { open: "Нове / New", taken: "В дорозі / On the way" };
const RESULTS = [["open", "Відчинено / Open", "open"],
                 ["locked", "Зачинено / Locked", "locked"],
                 ["forced_open", "Відчинено силою / Forced", "forced"]];

function say(text) { $("msg").textContent = text; }

class Refused extends Error {
  constructor(status, detail) { super(detail); this.status = status; }
}

async function api(method, path, body) {
  const res = await fetch(path, {
    method, headers: { "Authorization": "Bearer " + token, "Content-Type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Refused(res.status, data.detail || res.statusText);
  return data;
}

function where() {
  return position ? { lat: position.coords.latitude, lon: position.coords.longitude } : {};
}

// A result is evidence: wait briefly for a fix rather than send it without a position.
function fix(timeoutMs = 5000) {
  if (position || !navigator.geolocation) return Promise.resolve(where());
  return new Promise((done) => navigator.geolocation.getCurrentPosition(
    (p) => { position = p; done(where()); }, () => done({}),
    { enableHighAccuracy: true, timeout: timeoutMs, maximumAge: 15000 }));
}

function card(task) {
  const div = document.createElement("div");
  div.className = "task " + task.kind;
  const title = task.kind === "open_locked"
    ? "ВІДЧИНИТИ / OPEN LOCKED DOOR" : "Перевірка / Check #" + (task.position + 1);
  const eta = task.eta_s ? ` · ~${Math.round(task.eta_s / 60)} хв / min` : "";
  div.innerHTML = `<h2></h2><div class="addr"></div><div class="muted"></div>`;
  div.querySelector("h2").textContent = title;
  div.querySelector(".addr").textContent = task.shelter.address;
  div.querySelector(".muted").textContent = `${STATES[task.state] || task.state}${eta}`;
  const nav = document.createElement("a");
  nav.href = `geo:${task.shelter.lat},${task.shelter.lon}`;
  nav.textContent = "Маршрут / Navigate";
  div.appendChild(nav);
  const buttons = document.createElement("div");
  const where_ = task.shelter.address;
  if (task.state === "open") {
    buttons.appendChild(button("Беремо / Take", "", where_, `take:${task.id}`,
                               "Завдання ваше / The task is yours",
                               () => api("POST", `/v1/tasks/${task.id}/take`)));
  }
  for (const [kind, label, cls] of RESULTS) {
    buttons.appendChild(button(label, cls, where_, `${kind}:${task.id}`,
                               "Записано / Recorded", async () =>
      api("POST", `/v1/tasks/${task.id}/result`, { kind, ...(await fix()) })));
  }
  div.appendChild(buttons);
  return div;
}

function button(label, cls, address, key, done, action) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label; b.className = cls; b.dataset.key = key;
  b.setAttribute("aria-label", `${label}: ${address}`);  // cards differ only by the address
  b.onclick = async () => {
    pressed = key;
    b.disabled = true;
    try { await action(); say(done); } catch (e) { say(`Помилка / Error: ${e.message}`); }
    refresh();
  };
  return b;
}

function refuse(status, detail) {
  // A token that opens no patrol's tasks: say why and ask again.
  token = ""; localStorage.removeItem("sw_patrol_token");
  $("login-msg").textContent = status === 401
    ? "Токен не прийнято / The token was refused"
    : `Цей токен не патруля / This is not a patrol's token (${detail})`;
  $("login").hidden = false;
  $("token").focus();
}

// A new task must reach a patrol whose phone is in a pocket: a tone, a vibration and, where
// the patrol allowed it, a system notification. Tasks present at the first load are not new.
let seen = null;
function announce(tasks) {
  const ids = new Set(tasks.map((t) => t.id));
  const fresh = seen === null ? [] : tasks.filter((t) => !seen.has(t.id));
  seen = ids;
  if (!fresh.length) return;
  document.body.dataset.announced = String(Number(document.body.dataset.announced || 0) + 1);
  const first = fresh[0];
  const text = `${first.kind === "open_locked" ? "ВІДЧИНИТИ / OPEN" : "Перевірка / Check"}: `
    + first.shelter.address;
  say(`Нове завдання / New task — ${text}`);
  try {
    const AudioCtx = window.AudioContext || window.webkitAudioContext;
    const ctx = new AudioCtx();
    for (const [at, hz] of [[0, 880], [0.25, 660], [0.5, 880]]) {
      const osc = ctx.createOscillator();
      osc.frequency.value = hz; osc.connect(ctx.destination);
      osc.start(ctx.currentTime + at); osc.stop(ctx.currentTime + at + 0.18);
    }
  } catch (e) { /* no audio: the vibration and the words remain */ }
  if (navigator.vibrate) navigator.vibrate([300, 120, 300, 120, 300]);
  if (window.Notification && Notification.permission === "granted") {
    try { new Notification("shelterwatch", { body: text, tag: `task-${first.id}` }); }
    catch (e) { /* some browsers allow notifications only from a service worker */ }
  }
}

async function refresh() {
  if (!token) { $("login").hidden = false; return; }
  const mine = ++asked;
  try {
    const data = await api("GET", "/v1/tasks");
    // A refresh sent before a result's commit may answer after it: never paint the past.
    if (mine < shown) return;
    shown = mine;
    $("login").hidden = true; $("login-msg").textContent = "";
    $("unit").textContent = "· " + data.unit.name;
    $("available").checked = data.unit.available;
    const focused = (document.activeElement && document.activeElement.dataset
      ? document.activeElement.dataset.key : undefined) || pressed;
    pressed = null;
    const list = $("tasks"); list.replaceChildren();
    announce(data.tasks);
    if (!data.tasks.length) list.textContent = "Завдань немає / No tasks";
    data.tasks.forEach((t) => list.appendChild(card(t)));
    // After "Take" the next key press belongs to the task's first result.
    const key = focused && focused.startsWith("take:") ? `open:${focused.slice(5)}` : focused;
    const again = key && list.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (again) again.focus();  // a refresh must not throw the patrol's place on the page away
  } catch (e) {
    if (e.status === 401 || e.status === 403) refuse(e.status, e.message);
    else say(`Немає зв'язку / No connection: ${e.message}`);
  }
}

$("login").onsubmit = (ev) => {
  ev.preventDefault();
  token = $("token").value.trim();
  localStorage.setItem("sw_patrol_token", token);
  // Asked on the patrol's own tap, as browsers require.
  if (window.Notification && Notification.permission === "default") {
    Notification.requestPermission().catch(() => {});
  }
  refresh();
};
$("available").onchange = () =>
  api("POST", "/v1/patrols/me", { available: $("available").checked, ...where() })
    .catch((e) => say(`Помилка / Error: ${e.message}`));

if (navigator.geolocation) {
  navigator.geolocation.watchPosition((p) => { position = p; }, () => {}, {
    enableHighAccuracy: true, maximumAge: 15000 });
  setInterval(() => { if (token && position) api("POST", "/v1/patrols/me", where()).catch(() => {}); },
              60000);
}
refresh();
setInterval(refresh, 10000);
// A new dispatch shows within a second, not at the next poll.
if (window.EventSource) new EventSource("/v1/stream").addEventListener("incident", refresh);
