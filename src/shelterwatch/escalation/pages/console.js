// The operator board: incidents with live ladder timers, alert state, patrols, doors.
// State comes from /v1/console; /v1/stream (SSE) says when to fetch it again.
"use strict";
const $ = (id) => document.getElementById(id);
let token = localStorage.getItem("sw_operator_token") || "";
let state = null;
let skew = 0;  // server clock minus ours, so timers count in the server's time

async function api(method, path) {
  const res = await fetch(path, { method, headers: { "Authorization": "Bearer " + token } });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.detail || res.statusText);
  return data;
}

const mmss = (s) => `${s < 0 ? "-" : ""}${Math.floor(Math.abs(s) / 60)}:${
  String(Math.floor(Math.abs(s) % 60)).padStart(2, "0")}`;
const now = () => Date.now() + skew;

function cell(row, text, cls) {
  const td = row.insertCell(); td.textContent = text; if (cls) td.className = cls; return td;
}

function act(label, path, confirmText) {
  const b = document.createElement("button");
  b.textContent = label;
  b.onclick = async () => {
    if (confirmText && !confirm(confirmText)) return;
    try { await api("POST", path); } catch (e) { alert(e.message); }
    load();
  };
  return b;
}

function render() {
  if (!state) return;
  const t = now();
  $("clock").textContent = new Date(t).toLocaleTimeString("uk-UA", { timeZone: "Europe/Kyiv" });
  const alerts = state.alerts;
  $("alert").textContent = alerts.length
    ? "ТРИВОГА / ALERT: " + alerts.map((a) => `${a.area_id} ${a.type}`).join(", ") : "Відбій / Calm";
  $("alert").className = alerts.length ? "on" : "";
  $("dead").textContent = state.dead_letters ? `undelivered: ${state.dead_letters}` : "";
  const body = $("incidents"); body.replaceChildren();
  for (const inc of state.incidents) {
    const row = body.insertRow();
    cell(row, `${inc.tracking_id} (+${inc.me_too})`);
    cell(row, inc.address);
    cell(row, mmss((t - Date.parse(inc.opened_at)) / 1000), "timer");
    const ladder = row.insertCell();
    for (const rung of inc.ladder) {
      const div = document.createElement("div");
      if (rung.taken_at) { div.className = "done"; div.textContent = `✓ ${rung.step}`; }
      else {
        const left = (Date.parse(rung.due_at) - t) / 1000;
        div.className = left < 0 ? "late timer" : "timer";
        div.textContent = `${rung.step} ${left < 0 ? "due" : "in " + mmss(left)}`;
      }
      ladder.appendChild(div);
    }
    const actions = row.insertCell();
    actions.appendChild(act("Відправити патруль / Dispatch now", `/v1/incidents/${inc.id}/dispatch`));
    actions.appendChild(act("Хибне / False report", `/v1/incidents/${inc.id}/false-report`,
                            "Mark this report false and call off its tasks?"));
  }
  if (!state.incidents.length) body.insertRow().insertCell().textContent = "—";
  const units = $("units"); units.replaceChildren();
  for (const u of state.units) {
    const row = units.insertRow();
    cell(row, u.name); cell(row, u.available ? "вільний / free" : "зайнятий / busy");
    cell(row, u.position_at ? new Date(u.position_at).toLocaleTimeString("uk-UA") : "—", "muted");
  }
  const tasks = $("tasks"); tasks.replaceChildren();
  for (const task of state.tasks) {
    const row = tasks.insertRow();
    cell(row, task.kind); cell(row, task.shelter.address); cell(row, task.state);
    cell(row, task.unit_id ? `unit ${task.unit_id}` : "—", "muted");
  }
  const doors = $("doors"); doors.replaceChildren();
  for (const d of state.doors) {
    const row = doors.insertRow();
    cell(row, `#${d.shelter_id}`); cell(row, d.state || "?", d.silent ? "late" : "");
    cell(row, d.silent ? "мовчить / silent" : "", "late");
    row.insertCell().appendChild(act("Відчинити / Unlock", `/v1/doors/${d.shelter_id}/unlock`));
  }
}

async function load() {
  if (!token) { $("login").hidden = false; return; }
  try {
    state = await api("GET", "/v1/console");
    skew = Date.parse(state.now) - Date.now();
    render();
  } catch (e) {
    $("alert").textContent = e.message;
    if (/token/.test(e.message)) $("login").hidden = false;
  }
}

$("login").onsubmit = (ev) => {
  ev.preventDefault();
  token = $("token").value.trim();
  localStorage.setItem("sw_operator_token", token);
  $("login").hidden = true;
  load();
};

const stream = new EventSource("/v1/stream");
for (const kind of ["alert", "incident", "status"]) stream.addEventListener(kind, load);
setInterval(render, 1000);  // the timers tick between events
setInterval(load, 5000);    // rungs taken and a dropped stream show within seconds
load();
