/* `/?shelter=<id>`: the door sign's QR code (and a push's "go to X"). That shelter's card comes
 * first, with its live status and Go, and the nearest alternatives follow, ranked from it: at a
 * locked door, the next door is the answer. The page says distances are from the shelter until
 * the person locates themselves. Works offline from the pack. Loaded after app.js.
 */
"use strict";

const Pinned = (() => {
  let pinned = null;  // {id, feature}

  function feature(s) {
    return {type: "Feature", id: s.id, geometry: {type: "Point", coordinates: [s.lon, s.lat]},
            properties: s};
  }

  /* The signed shelter first, the others after it (as many as were asked for). */
  function first(results) {
    if (!pinned || !state.from || state.from.how !== "sign") return results;
    const i = results.findIndex((r) => r.shelter.id === pinned.id);
    if (i === 0) return results;
    if (i > 0) return [results[i], ...results.slice(0, i), ...results.slice(i + 1)];
    // The reader stands at its door: in time for any alert in force (null says "no alert", so
    // it must not be given while one is known, online or from the phone's last copy).
    const warning = state.alert ? state.alert.warning_s : offlineWarning();
    const own = {shelter: pinned.feature, distance_m: 0, walk_s: 0, status: statusOf(pinned.id),
                 reachable_in_time: (warning != null || state.alert) ? true : null, why: null};
    return [own, ...results.slice(0, Math.max(1, results.length - 1))];
  }

  async function open() {
    const id = Number(new URLSearchParams(location.search).get("shelter"));
    if (!Number.isInteger(id) || id <= 0) return;
    const s = state.shelters.find((x) => x.id === id);
    let f = s ? feature(s) : null;
    if (!f) {
      try {
        const response = await fetch(`/v1/shelters/${id}`);
        if (response.ok) f = await response.json();
      } catch (e) { /* offline and not in the pack */ }
    }
    if (!f) {
      $("hint").textContent = t("signUnknown", id);
      return;
    }
    pinned = {id, feature: f};
    const [lon, lat] = f.geometry.coordinates;
    const p = f.properties || {};
    document.body.dataset.pinned = String(id);
    await choose(lat, lon, {how: "sign", label: p.address || p.name || `#${id}`});
  }

  return {first, open};
})();

new MutationObserver((changes, observer) => {
  if (document.body.dataset.ready !== "1") return;
  observer.disconnect();
  Pinned.open();
}).observe(document.body, {attributes: true, attributeFilter: ["data-ready"]});
