/* The service worker's half of web push: show what the server sent, open the page on a tap. */
"use strict";

self.addEventListener("push", (event) => {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch (e) { data = {body: event.data.text()}; }
  event.waitUntil(self.registration.showNotification(data.title || "shelterwatch", {
    body: data.body || "", tag: data.kind === "redirect" ? `locked-${data.locked}` : data.kind,
    renotify: true, requireInteraction: data.kind === "redirect",
    data: {url: data.url || "/"},
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(self.clients.openWindow(event.notification.data.url || "/"));
});
