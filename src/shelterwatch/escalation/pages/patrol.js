// The patrol's phone: take a task, record open / locked / forced open with the position.
"use strict";
const $ = (id) => document.getElementById(id);
let token = localStorage.getItem("sw_patrol_token") || "";
let position = null;

function say(text) { $("msg").textContent = text; }

async function api(method, path, body) {
  const res = await fetch(path, {
    method, headers: { "Authorization": "Bearer " + token, "Content-Type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.detail || res.statusText);
  return data;
}

function where() {
  return position ? { lat: position.coords.latitude, lon: position.coords.longitude } : {};
}

function card(task) {
  const div = document.createElement("div");
  div.className = "task " + task.kind;
  const title = task.kind === "open_locked"
    ? "ВІДЧИНИТИ / OPEN LOCKED DOOR" : "Перевірка / Check #" + (task.position + 1);
  const eta = task.eta_s ? ` · ~${Math.round(task.eta_s / 60)} min` : "";
  div.innerHTML = `<h2></h2><div class="addr"></div><div class="muted"></div>`;
  div.querySelector("h2").textContent = title;
  div.querySelector(".addr").textContent = task.shelter.address;
  div.querySelector(".muted").textContent = `${task.state}${eta}`;
  const nav = document.createElement("a");
  nav.href = `geo:${task.shelter.lat},${task.shelter.lon}`;
  nav.textContent = "Маршрут / Navigate";
  div.appendChild(nav);
  const buttons = document.createElement("div");
  if (task.state === "open") buttons.appendChild(button("Беремо / Take", "", () =>
    api("POST", `/v1/tasks/${task.id}/take`)));
  for (const [kind, label, cls] of [["open", "Відчинено / Open", "open"],
                                    ["locked", "Зачинено / Locked", "locked"],
                                    ["forced_open", "Відчинено силою / Forced", "forced"]]) {
    buttons.appendChild(button(label, cls, () =>
      api("POST", `/v1/tasks/${task.id}/result`, { kind, ...where() })));
  }
  div.appendChild(buttons);
  return div;
}

function button(label, cls, action) {
  const b = document.createElement("button");
  b.textContent = label; b.className = cls;
  b.onclick = async () => {
    b.disabled = true;
    try { await action(); say("Записано / Recorded"); } catch (e) { say(e.message); }
    refresh();
  };
  return b;
}

async function refresh() {
  if (!token) { $("login").hidden = false; return; }
  try {
    const data = await api("GET", "/v1/tasks");
    $("unit").textContent = "· " + data.unit.name;
    $("available").checked = data.unit.available;
    const list = $("tasks"); list.replaceChildren();
    if (!data.tasks.length) list.textContent = "Завдань немає / No tasks";
    data.tasks.forEach((t) => list.appendChild(card(t)));
  } catch (e) {
    say(e.message);
    if (/token/.test(e.message)) { $("login").hidden = false; }
  }
}

$("login").onsubmit = (ev) => {
  ev.preventDefault();
  token = $("token").value.trim();
  localStorage.setItem("sw_patrol_token", token);
  $("login").hidden = true;
  refresh();
};
$("available").onchange = () =>
  api("POST", "/v1/patrols/me", { available: $("available").checked, ...where() })
    .catch((e) => say(e.message));

if (navigator.geolocation) {
  navigator.geolocation.watchPosition((p) => { position = p; }, () => {}, {
    enableHighAccuracy: true, maximumAge: 15000 });
  setInterval(() => { if (token && position) api("POST", "/v1/patrols/me", where()).catch(() => {}); },
              60000);
}
refresh();
setInterval(refresh, 10000);
