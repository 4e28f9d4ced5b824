/* The phone's own ranking, for when the network is gone.
 *
 * It mirrors src/shelterwatch/rules/ranking.py: the nearest `pool` shelters by great-circle
 * distance, then status class first, shelters an audit found not ready after the rest of their
 * class, and walking time, at least three results. During an alert (`warningS` set) shelters that
 * might admit (status class up to `unknown`'s) and are reachable within the warning time come
 * before every other: a near unchecked door beats a checked one the resident cannot reach in time.
 */
"use strict";

const Rank = (() => {
  const R = 6371008.8;
  const rad = Math.PI / 180;

  function distance(lat1, lon1, lat2, lon2) {
    const p1 = lat1 * rad, p2 = lat2 * rad;
    const dp = p2 - p1, dl = (lon2 - lon1) * rad;
    const h = Math.sin(dp / 2) ** 2 + Math.cos(p1) * Math.cos(p2) * Math.sin(dl / 2) ** 2;
    return 2 * R * Math.asin(Math.min(1, Math.sqrt(h)));
  }

  /* The k nearest of `shelters` ({id, lat, lon, …}) as [{shelter, distance}], nearest first. */
  function nearest(shelters, lat, lon, k) {
    const best = [];
    for (const s of shelters) {
      const d = distance(lat, lon, s.lat, s.lon);
      if (best.length < k || d < best[best.length - 1].distance) {
        let i = best.length;
        best.push(null);
        while (i > 0 && best[i - 1].distance > d) { best[i] = best[i - 1]; i--; }
        best[i] = {shelter: s, distance: d};
        if (best.length > k) best.pop();
      }
    }
    return best;
  }

  const MIGHT_ADMIT = 3;  // STATUS_CLASS[unknown] in rules/ranking.py

  /* Results shaped like /v1/nearest's. */
  function rank(shelters, lat, lon, opts) {
    const {walk, pool, statusClass, statusOf, stepFree, warningS, limit} = opts;
    const wanted = Math.max(limit || 3, 3);
    const size = Math.max(pool, wanted * 2) * (stepFree ? 3 : 1);
    let hits = nearest(shelters, lat, lon, size);
    if (stepFree) {
      const yes = hits.filter((h) => h.shelter.step_free === true);
      hits = yes.length >= wanted ? yes
        : yes.concat(hits.filter((h) => h.shelter.step_free == null));
    }
    const speed = stepFree ? walk.reducedSpeed : walk.speed;
    const timed = hits.map((h) => {
      const status = statusOf(h.shelter.id);
      const walkS = Math.round(h.distance * walk.detour / speed);
      const cls = statusClass[status] ?? 3;
      const late = warningS != null && cls <= MIGHT_ADMIT && walkS <= warningS ? 0 : 1;
      return {...h, status, walk_s: walkS, cls, late, cap: h.shelter.capacity ?? -1,
              notReady: h.shelter.readiness && h.shelter.readiness.category === "not_ready"
                ? 1 : 0};
    });
    timed.sort((a, b) => a.late - b.late || a.cls - b.cls || a.notReady - b.notReady || a.walk_s - b.walk_s
                         || b.cap - a.cap
                         || a.shelter.id - b.shelter.id);
    return timed.slice(0, wanted).map((t) => ({
      shelter: {type: "Feature", id: t.shelter.id,
                geometry: {type: "Point", coordinates: [t.shelter.lon, t.shelter.lat]},
                properties: {...t.shelter, status: t.status}},
      distance_m: Math.round(t.distance * 10) / 10,
      walk_s: t.walk_s,
      reachable_in_time: warningS == null ? null : t.walk_s <= warningS,
      status: t.status,
      why: null,
    }));
  }

  return {distance, nearest, rank};
})();
