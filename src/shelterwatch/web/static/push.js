/* Opt-in web push for the resident page (no account): alerts where you are, and "the shelter
 * you were sent to was just reported locked — go to X instead" for the shelters this page showed
 * you in the last hour. The browser's subscription is sent with the shown shelters and your
 * position (the server keeps only the area); it expires unless the page renews it.
 */
"use strict";

(() => {
  const TEXT = {
    uk: {offer: "🔔 Сповіщати про тривогу й зачинені укриття", on: "🔔 Сповіщення увімкнено",
         denied: "Сповіщення заборонено в налаштуваннях браузера.",
         failed: "Не вдалося увімкнути сповіщення."},
    en: {offer: "🔔 Notify me of alerts and locked shelters", on: "🔔 Notifications are on",
         denied: "Notifications are blocked in the browser's settings.",
         failed: "Notifications could not be turned on."},
  };
  const box = document.getElementById("push-optin");
  const button = document.getElementById("push-button");
  const status = document.getElementById("push-status");
  if (!box || !("serviceWorker" in navigator) || !("PushManager" in window)) return;

  let serverKey = null;
  let last = {point: null, lang: "uk", shown: []};

  const b64ToBytes = (text) => {
    const pad = "=".repeat((4 - (text.length % 4)) % 4);
    const raw = atob((text + pad).replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  };
  const words = () => TEXT[last.lang] || TEXT.uk;

  async function current() {
    const reg = await navigator.serviceWorker.ready;
    return reg.pushManager.getSubscription();
  }

  async function send(subscription) {
    const body = {subscription: subscription.toJSON(), lang: last.lang,
                  shown: last.shown.slice(0, 10)};
    if (last.point) { body.lat = last.point[0]; body.lon = last.point[1]; }
    const response = await fetch("/v1/push/subscriptions", {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
    if (!response.ok) throw new Error(`subscribe answered ${response.status}`);
  }

  async function render() {
    const subscribed = Boolean(await current());
    button.textContent = subscribed ? words().on : words().offer;
    button.disabled = subscribed;
    box.hidden = false;
  }

  button.addEventListener("click", async () => {
    try {
      if (await Notification.requestPermission() !== "granted") {
        status.textContent = words().denied;
        return;
      }
      const reg = await navigator.serviceWorker.ready;
      const subscription = await reg.pushManager.subscribe({
        userVisibleOnly: true, applicationServerKey: b64ToBytes(serverKey)});
      await send(subscription);
      status.textContent = "";
    } catch (e) {
      status.textContent = words().failed;
    }
    render();
  });

  // Each new answer renews the subscription with the shelters it showed.
  document.addEventListener("shelterwatch:results", async (event) => {
    last = event.detail;
    if (!serverKey) return;
    render();
    const subscription = await current();
    if (subscription && navigator.onLine !== false) send(subscription).catch(() => {});
  });

  fetch("/v1/push/key").then((r) => (r.ok ? r.json() : null)).then((body) => {
    if (body && body.public_key) { serverKey = body.public_key; render(); }
  }).catch(() => {});
})();
