/* The inspectors' page offline: the shell is cached at install and served when the network is
 * gone. The campaign's shelters and the checklist are kept by the page itself (localStorage), and
 * audits wait in its queue, so nothing here needs the network after the first visit.
 */
"use strict";

const CACHE = "shelterwatch-audit-v1";
const SHELL = ["/audit/", "/audit/audit.js"];

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(SHELL);
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith("shelterwatch-audit-") && key !== CACHE) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (!SHELL.includes(url.pathname)) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const response = await fetch(request);
      if (response.ok) await cache.put(url.pathname, response.clone());
      return response;
    } catch (e) {
      const cached = await cache.match(url.pathname);
      if (cached) return cached;
      throw e;
    }
  })());
});
