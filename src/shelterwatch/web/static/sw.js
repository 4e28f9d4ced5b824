/* Keeps the page and the offline pack on the phone so "where do I go now?" works without network.
 *
 * The app shell is cached at install. Pages and static files: network first (so updates arrive),
 * the cache when the network fails. The pack: network first with the browser's ETag revalidation,
 * the cached copy offline. Live endpoints (/v1/nearest, reports, the stream) are never cached;
 * the page handles their failure by ranking on the phone and queueing reports.
 */
"use strict";
importScripts("/static/push-sw.js");  // web push: alerts and "reported locked — go to X"

const CACHE = "shelterwatch-v2";
const SHELL = [
  "/", "/static/app.css", "/static/app.js", "/static/outbox.js", "/static/catalogue.js",
  "/static/i18n.js",
  "/static/rank.js", "/static/geo.js", "/static/answer.js", "/static/search.js",
  "/static/districts.geojson", "/static/icon.svg", "/static/icon-192.png",
  "/static/icon-512.png", "/static/track.js",
  "/static/push.js", "/static/push-sw.js", "/static/device.js",
  "/static/manifest.webmanifest", "/static/leaflet/leaflet.js", "/static/leaflet/leaflet.css",
  "/static/leaflet/images/marker-icon.png", "/static/leaflet/images/marker-icon-2x.png",
  "/static/leaflet/images/marker-shadow.png",
];
const PACK = "/v1/pack";

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(SHELL);
    try { await cache.add(PACK); } catch (e) { /* the page fetches it again */ }
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) if (key !== CACHE) await caches.delete(key);
    await self.clients.claim();
  })());
});

async function networkFirst(request, cacheKey) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(cacheKey || request, response.clone());
    return response;
  } catch (e) {
    const cached = await cache.match(cacheKey || request, {ignoreSearch: !!cacheKey});
    if (cached) return cached;
    throw e;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;  // map tiles: the browser's own cache
  if (request.mode === "navigate" && url.pathname === "/") {
    event.respondWith(networkFirst(request, "/"));
  } else if (url.pathname === PACK) {
    event.respondWith(networkFirst(request, PACK));
  } else if (url.pathname.startsWith("/static/")) {
    event.respondWith(networkFirst(request));
  }
});
