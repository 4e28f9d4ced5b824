// The operator board: incidents with live ladder timers, alert state, patrols, doors.
// State comes from /v1/console; /v1/stream (SSE) says when to fetch it again.
"use strict";
const $ = (id) => document.getElementById(id);
let token = localStorage.getItem("sw_operator_token") || "";
let state = null;
let skew = 0;  // server clock minus ours, so timers count in the server's time
let pressed = null;  // the key of the button in flight: disabling it blurs it
let asked = 0, shown = 0;  // board requests issued, and the newest one rendered

// Every code the API speaks, in both languages; the page shows the desk's (lang.js).
const WORDS = {
  air_raid: ["Повітряна тривога", "Air raid"], artillery: ["Артобстріл", "Artillery"],
  urban_fights: ["Вуличні бої", "Urban fights"], chemical: ["Хімічна загроза", "Chemical"],
  nuclear: ["Радіаційна загроза", "Nuclear"],
  unlock_door: ["Двері", "Door unlock"], notify_keyholders: ["Ключник", "Keyholder"],
  dispatch_patrol: ["Патруль", "Patrol"], escalate_operator: ["Оператор", "Operator"],
  cancel_patrol_task: ["Відкликати патруль", "Call off patrol"],
  notify_owner: ["Балансоутримувач", "Owner"],
  open_locked: ["Відчинити зачинене", "Open locked"], check: ["Перевірка", "Check"],
  open: ["нове", "new"], taken: ["в дорозі", "on the way"], done: ["виконано", "done"],
  cancelled: ["скасовано", "cancelled"], locked: ["зачинено", "locked"],
  refused: ["не пускають", "entry refused"], unlocked: ["відчинено", "unlocked"],
};
const word = (code) => (WORDS[code] ? T(...WORDS[code]) : code);
const clockLocale = () => T("uk-UA", "en-GB");
// Every time on the board is read on the city's clocks, whatever the desk computer's zone.
const zone = () => (state && state.zone) || "Europe/Kyiv";

class Refused extends Error {
  constructor(status, detail) { super(detail); this.status = status; }
}

async function api(method, path) {
  const res = await fetch(path, { method, headers: { "Authorization": "Bearer " + token } });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Refused(res.status, data.detail || res.statusText);
  return data;
}

const mmss = (s) => `${s < 0 ? "-" : ""}${Math.floor(Math.abs(s) / 60)}:${
  String(Math.floor(Math.abs(s) % 60)).padStart(2, "0")}`;
const now = () => Date.now() + skew;
const say = (text) => { $("msg").textContent = text; };

function cell(row, text, cls) {
  const td = row.insertCell(); td.textContent = text; if (cls) td.className = cls; return td;
}

function act(label, name, key, path, confirmText) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.setAttribute("aria-label", `${label}: ${name}`);  // rows differ only by what they act on
  b.dataset.key = key;
  b.onclick = async () => {
    if (confirmText && !confirm(confirmText)) return;
    pressed = key;
    b.disabled = true;
    try { await api("POST", path); say(""); } catch (e) { say(`${T("Помилка", "Error")}: ${e.message}`); }
    load();
  };
  return b;
}

// The timers tick once a second without rebuilding rows, so a focused button stays focused.
function tick() {
  if (!state) return;
  const t = now();
  $("clock").textContent = new Date(t).toLocaleTimeString(clockLocale(), { timeZone: zone() });
  for (const el of document.querySelectorAll("[data-since]")) {
    el.textContent = mmss((t - Number(el.dataset.since)) / 1000);
  }
  for (const el of document.querySelectorAll("[data-due]")) {
    const left = (Number(el.dataset.due) - t) / 1000;
    el.className = left < 0 ? "late timer" : "timer";
    el.textContent = `${el.dataset.step} ${left < 0 ? T("пора", "due") : T("за ", "in ") + mmss(left)}`;
  }
}

function renderAlerts() {
  const alerts = state.alerts;
  $("alert").textContent = alerts.length
    ? T("ТРИВОГА: ", "ALERT: ") + alerts.map((a) => `${T(a.area_name, a.area_name_en)} — ${word(a.type)}`).join(", ")
    : T("Відбій", "Calm");
  $("alert").className = alerts.length ? "on" : "";
  $("dead").textContent = state.dead_letters
    ? `${T("не доставлено", "undelivered")}: ${state.dead_letters}` : "";
}

function renderIncidents() {
  const body = $("incidents"); body.replaceChildren();
  for (const inc of state.incidents) {
    const row = body.insertRow();
    row.dataset.incident = inc.id;
    cell(row, `${inc.tracking_id} (+${inc.me_too})`);
    cell(row, inc.address);
    cell(row, "", "timer").dataset.since = Date.parse(inc.opened_at);
    const ladder = row.insertCell();
    for (const rung of inc.ladder) {
      if (rung.taken_at) continue;  // what a taken rung did is in the lines below
      const div = document.createElement("div");
      div.dataset.due = Date.parse(rung.due_at); div.dataset.step = word(rung.step);
      ladder.appendChild(div);
    }
    // Who was reached, read from the outbox and the tasks: "✓ Keyholder" only when a message
    // to a keyholder went out, and "nobody registered" when there is nobody to reach.
    for (const line of inc.reach || []) {
      if (line.state === "due") continue;  // shown as a ticking timer above
      const div = document.createElement("div");
      div.className = line.state === "sent" || line.state === "on_the_way" || line.state === "done"
        ? "done" : line.state === "none" || line.state === "failed" || line.state === "no_unit"
        ? "late" : "muted";
      div.dataset.who = line.who; div.dataset.state = line.state;
      div.textContent = (div.className === "done" ? "✓ " : div.className === "late" ? "✗ " : "… ")
        + T(line.text.uk, line.text.en);
      ladder.appendChild(div);
    }
    const actions = row.insertCell();
    actions.appendChild(act(T("Відправити патруль", "Dispatch now"), inc.address,
                            `dispatch:${inc.id}`, `/v1/incidents/${inc.id}/dispatch`));
    actions.appendChild(act(T("Хибне", "False report"), inc.address, `false:${inc.id}`,
                            `/v1/incidents/${inc.id}/false-report`,
                            T("Позначити повідомлення хибним і відкликати завдання?",
                              "Mark this report false and call off its tasks?")));
  }
  if (!state.incidents.length) body.insertRow().insertCell().textContent = "—";
}

function renderSide() {
  const names = new Map(state.units.map((u) => [u.id, u.name]));
  const units = $("units"); units.replaceChildren();
  for (const u of state.units) {
    const row = units.insertRow();
    cell(row, u.name); cell(row, u.available ? T("вільний", "free") : T("зайнятий", "busy"));
    cell(row, u.position_at ? new Date(u.position_at).toLocaleTimeString(clockLocale(), { timeZone: zone() })
      : "—", "muted");
  }
  const tasks = $("tasks"); tasks.replaceChildren();
  for (const task of state.tasks) {
    const row = tasks.insertRow();
    cell(row, word(task.kind)); cell(row, task.shelter.address); cell(row, word(task.state));
    cell(row, task.unit_id ? names.get(task.unit_id) || `#${task.unit_id}` : "—", "muted");
  }
  const far = $("unreachable"); far.replaceChildren();
  for (const u of state.unreachable || []) {
    const row = far.insertRow();
    cell(row, `#${u.shelter_id}`); cell(row, u.address);
    cell(row, `> ${Math.round(u.budget_s / 60)} ${T("хв", "min")}`, "late");
  }
  $("unreachable-note").hidden = !(state.unreachable || []).length;
  const doors = $("doors"); doors.replaceChildren();
  for (const d of state.doors) {
    const row = doors.insertRow();
    cell(row, `#${d.shelter_id}`); cell(row, word(d.state || "?"), d.silent ? "late" : "");
    cell(row, d.silent ? T("мовчить", "silent") : "", "late");
    row.insertCell().appendChild(act(T("Відчинити", "Unlock"), `#${d.shelter_id}`,
                                     `unlock:${d.shelter_id}`, `/v1/doors/${d.shelter_id}/unlock`));
  }
}

// The surge detector: a source (one network, however many device ids) reporting about many
// doors or in a burst. One click sets its evidence aside; the statuses say so; reversible.
function renderSources() {
  const body = $("sources"); body.replaceChildren();
  for (const s of state.sources || []) {
    const row = body.insertRow();
    const name = `${s.source.slice(0, 10)}…`;
    cell(row, name, "muted");
    cell(row, T(`${s.reports} звітів, ${s.shelters} укриттів, ${s.reporters} свідків`,
                `${s.reports} reports, ${s.shelters} shelters, ${s.reporters} witnesses`));
    cell(row, s.reasons.join("; "), s.quarantined ? "muted" : "late");
    const path = `/v1/sources/${encodeURIComponent(s.source)}/`;
    row.insertCell().appendChild(s.quarantined
      ? act(T("Повернути", "Release"), name, `release:${s.source}`, path + "release")
      : act(T("Карантин", "Quarantine"), name, `quarantine:${s.source}`, path + "quarantine",
            T("Відкласти всі повідомлення цього джерела?",
              "Set aside every report from this source?") +
            ` (${s.shelter_ids.map((id) => "#" + id).join(", ")})`));
  }
  if (!(state.sources || []).length) body.insertRow().insertCell().textContent = "—";
}

function render() {
  const focused = (document.activeElement && document.activeElement.dataset
    ? document.activeElement.dataset.key : undefined) || pressed;
  pressed = null;
  renderAlerts(); renderIncidents(); renderSources(); renderSide(); tick();
  if (focused) {
    const again = document.querySelector(`[data-key="${CSS.escape(focused)}"]`);
    if (again) again.focus();
  }
}

function refuse(status) {
  // A token that is not an operator's opens nothing; say why and ask again.
  token = ""; localStorage.removeItem("sw_operator_token");
  $("login-msg").textContent = status === 403
    ? T("Цей токен не для пульта", "This token is not an operator's")
    : T("Токен не прийнято", "The token was refused");
  $("login").hidden = false;
  $("token").focus();
}

async function load() {
  if (!token) { $("login").hidden = false; return; }
  const mine = ++asked;
  try {
    const [fresh, flagged] = await Promise.all([api("GET", "/v1/console"),
                                                api("GET", "/v1/sources/flagged")]);
    fresh.sources = flagged.sources;
    // A poll sent before an action's commit may answer after it: never paint the past.
    if (mine < shown) return;
    shown = mine; state = fresh;
    skew = Date.parse(state.now) - Date.now();
    $("login").hidden = true; $("login-msg").textContent = "";
    render();
  } catch (e) {
    if (e.status === 401 || e.status === 403) refuse(e.status);
    else say(`${T("Немає зв'язку з сервером", "Server unreachable")}: ${e.message}`);
  }
}

$("login").onsubmit = (ev) => {
  ev.preventDefault();
  token = $("token").value.trim();
  localStorage.setItem("sw_operator_token", token);
  load();
};

const stream = new EventSource("/v1/stream");
for (const kind of ["alert", "incident", "status"]) stream.addEventListener(kind, load);
document.addEventListener("langchange", () => { if (state) render(); });
setInterval(tick, 1000);  // the timers tick between events
setInterval(load, 5000);  // rungs taken and a dropped stream show within seconds
load();
