/* Keeps the page and the offline pack on the phone so "where do I go now?" works without network.
 *
 * The app shell is cached at install. Pages and static files: network first (so updates arrive),
 * the cache when the network fails. The pack: network first with the browser's ETag revalidation,
 * the cached copy offline. Live endpoints (/v1/nearest, reports, the stream) are never cached;
 * the page handles their failure by ranking on the phone and queueing reports.
 * The street map (when one is built) is kept whole: the page asks for it ("keep-basemap") and
 * every tile of the city goes into its own cache, served cache-first (a build's tiles never
 * change; a rebuilt map has new URLs and replaces the old cache once it is complete).
 */
"use strict";
importScripts("/static/push-sw.js");  // web push: alerts and "reported locked — go to X"

const CACHE = "shelterwatch-v2";
const SHELL = [
  "/", "/static/app.css", "/static/app.js", "/static/outbox.js", "/static/catalogue.js",
  "/static/i18n.js",
  "/static/rank.js", "/static/geo.js", "/static/alerts.js", "/static/answer.js", "/static/search.js",
  "/static/districts.geojson", "/static/street-renames.json", "/static/icon.svg", "/static/icon-192.png",
  "/static/icon-512.png", "/static/track.js", "/static/basemap.js",
  "/static/deeplink.js",
  "/static/push.js", "/static/push-sw.js", "/static/device.js",
  "/static/manifest.webmanifest", "/static/leaflet/leaflet.js", "/static/leaflet/leaflet.css",
  "/static/leaflet/images/marker-icon.png", "/static/leaflet/images/marker-icon-2x.png",
  "/static/leaflet/images/marker-shadow.png",
];
const PACK = "/v1/pack";
const BASEMAP = "shelterwatch-basemap";
const BASEMAP_FILES = ["/static/vendor/protomaps-leaflet.js",
  "/static/fonts/noto-sans-cyrillic-400-normal.woff2", "/static/fonts/noto-sans-latin-400-normal.woff2",
  "/static/fonts/noto-sans-cyrillic-600-normal.woff2", "/static/fonts/noto-sans-latin-600-normal.woff2"];

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
    for (const key of await caches.keys()) {
      if (key !== CACHE && !key.startsWith(BASEMAP)) await caches.delete(key);
    }
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
  if (url.pathname.startsWith("/basemap/tiles/")) {
    event.respondWith(cacheFirst(request));
    return;
  }
  if (url.pathname.startsWith("/basemap/")) {
    event.respondWith(networkFirstIn(basemapCacheName, request));
    return;
  }
  if (request.mode === "navigate" && url.pathname === "/") {
    event.respondWith(networkFirst(request, "/"));
  } else if (url.pathname === PACK) {
    event.respondWith(networkFirst(request, PACK));
  } else if (url.pathname.startsWith("/static/")) {
    event.respondWith(networkFirst(request));
  }
});

/* ---------- the street map, kept whole ---------- */

let basemapCacheName = BASEMAP;

async function cacheFirst(request) {
  const cached = await caches.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) (await caches.open(basemapCacheName)).put(request, response.clone());
  return response;
}

async function networkFirstIn(name, request) {
  const cache = await caches.open(name);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (e) {
    const cached = await caches.match(request, {ignoreSearch: true});
    if (cached) return cached;
    throw e;
  }
}

/* Every tile of the build into `shelterwatch-basemap-<version>`, then the old builds go. */
async function keepBasemap(message) {
  const index = await (await fetch(message.index, {cache: "no-store"})).json();
  basemapCacheName = `${BASEMAP}-${index.version}`;
  const cache = await caches.open(basemapCacheName);
  const urls = [message.index, message.style, message.gazetteer, ...BASEMAP_FILES,
    ...index.tiles.map(([z, x, y]) => message.tiles.replace("{z}", z).replace("{x}", x)
                                                  .replace("{y}", y))];
  const missing = [];
  for (const u of urls) if (!(await cache.match(u))) missing.push(u);
  for (let i = 0; i < missing.length; i += 32) await cache.addAll(missing.slice(i, i + 32));
  for (const key of await caches.keys()) {
    if (key.startsWith(BASEMAP) && key !== basemapCacheName) await caches.delete(key);
  }
  return index.tiles.length;
}

self.addEventListener("message", (event) => {
  if (!event.data || event.data.type !== "keep-basemap") return;
  event.waitUntil(keepBasemap(event.data).then((tiles) => {
    if (event.source) event.source.postMessage({type: "basemap-kept", tiles});
  }).catch(() => { /* kept tile by tile as they are seen */ }));
});
