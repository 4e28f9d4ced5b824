// The console's coverage panel: people out of reach now, and how many because doors are shut.
// Its own script and section, so the console's look stays with the console. Polls every 5 s
// (the figure changes only when a status does, and the server has it ready).
"use strict";
(() => {
  const panel = document.getElementById("coverage-panel");
  if (!panel) return;
  const area = new URLSearchParams(location.search).get("coverage_area")
    || panel.dataset.area || "31";
  const out = panel.querySelector("[data-out]");
  const list = panel.querySelector("[data-changes]");
  const num = (x) => Number(x || 0).toLocaleString(T("uk-UA", "en-GB"));

  async function refresh() {
    const token = localStorage.getItem("sw_operator_token") || "";
    if (!token) return;
    try {
      const res = await fetch(`/v1/coverage/live?area=${encodeURIComponent(area)}`,
                              { headers: { "Authorization": "Bearer " + token } });
      if (res.status === 202) { out.textContent = T("Обчислюється…", "Computing…"); return; }
      const d = await res.json();
      if (!res.ok) { out.textContent = d.detail || res.statusText; return; }
      const when = d.under_alert ? `${T("тривога", "alert")}: ${d.threat}, ${d.warning_s} s`
                                 : `${T("без тривоги", "no alert")} (${d.threat})`;
      const share = `${num(d.out_of_reach)} (${(100 * d.share).toFixed(1)}%)`;
      out.textContent = `${when}. ` + T(
        `Поза досяжністю: ${share}. Через зачинені двері: ${num(d.newly_out_of_reach)}; ` +
        `непридатних укриттів: ${d.unusable_shelters}.`,
        `Out of reach: ${share}. Because doors are shut: ${num(d.newly_out_of_reach)}; ` +
        `unusable shelters: ${d.unusable_shelters}.`);
      list.replaceChildren(...d.recent_changes.slice(0, 5).map((c) => {
        const li = document.createElement("li");
        const delta = c.out_of_reach_change[d.threat] || 0;
        li.textContent = `#${c.shelter_id} ${c.status}: ${delta >= 0 ? "+" : ""}${num(delta)} ` +
          T("поза досяжністю", "out of reach");
        return li;
      }));
    } catch (e) { out.textContent = `${T("Помилка", "Error")}: ${e.message}`; }
  }
  refresh();
  document.addEventListener("langchange", refresh);
  setInterval(refresh, 5000);
})();
