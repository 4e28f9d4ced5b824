/* The phone's own ranking, for when the network is gone.
 *
 * It mirrors src/shelterwatch/rules/ranking.py: the nearest `pool` shelters by great-circle
 * distance, ordered by expected time to safety (the walk, plus the chance the door does not
 * admit times the walk on to the nearest other door that might), at least three results. Doors
 * that will not admit (status class above `unknown`'s) come after every door that might, by
 * status class then walk; shelters an audit found not ready after the ready ones of their tier.
 * During an alert (`warningS` set) doors that might admit and are reachable within the warning
 * time come before every other.
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

  /* ranking.expected_s: the walk plus the chance of failing times the walk on to the nearest
   * other door (Infinity for a door that will not admit: it is nobody's walk on). */
  function expected(walks, fails) {
    let first = Infinity, second = Infinity, nearest = -1;
    walks.forEach((w, i) => {
      if (w < first) { second = first; first = w; nearest = i; }
      else if (w < second) second = w;
    });
    return walks.map((w, i) => {
      const onward = i === nearest ? second : first;
      return w + fails[i] * (Number.isFinite(onward) ? onward : 0);
    });
  }

  /* Results shaped like /v1/nearest's. */
  function rank(shelters, lat, lon, opts) {
    const {walk, pool, statusClass, fails, statusOf, stepFree, warningS, limit} = opts;
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
      const walkF = h.distance * walk.detour / speed;
      const walkS = Math.round(walkF);
      const cls = statusClass[status] ?? 3;
      const admits = cls <= MIGHT_ADMIT;
      const tier = !admits ? 2 : warningS != null && walkS <= warningS ? 0 : 1;
      return {...h, status, walk_s: walkS, walkF, cls, admits, tier,
              group: admits ? 0 : cls, cap: h.shelter.capacity ?? -1,
              notReady: h.shelter.readiness && h.shelter.readiness.category === "not_ready"
                ? 1 : 0};
    });
    const costs = expected(timed.map((t) => (t.admits ? t.walkF : Infinity)),
                           timed.map((t) => fails[t.status] ?? 1));
    timed.forEach((t, i) => { t.cost = t.admits ? costs[i] : t.walkF; });
    timed.sort((a, b) => a.tier - b.tier || a.group - b.group || a.notReady - b.notReady
                         || a.cost - b.cost || a.cls - b.cls || a.walkF - b.walkF
                         || b.cap - a.cap || a.shelter.id - b.shelter.id);
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
