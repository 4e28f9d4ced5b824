/* An issued device id, fetched once while online: the phone pays a small proof of work
 * (sha256(challenge:nonce) with `bits` leading zero bits) and keeps the signed id, so at the
 * door, offline or during an alert, its reports count as its own witness. Until then reports
 * still go out, carrying the phone's own random id, and count as its network.
 */
"use strict";

const ISSUED_KEY = "shelterwatch.device.issued";

function zeroBits(bytes) {
  let bits = 0;
  for (const b of bytes) {
    if (b === 0) { bits += 8; continue; }
    return bits + Math.clz32(b) - 24;
  }
  return bits;
}

async function solveChallenge(challenge, bits) {
  const encoder = new TextEncoder();
  for (let n = 0; ; n++) {
    const digest = await crypto.subtle.digest("SHA-256", encoder.encode(challenge + ":" + n));
    if (zeroBits(new Uint8Array(digest)) >= bits) return String(n);
  }
}

async function fetchIssuedId() {
  if (localStorage.getItem(ISSUED_KEY) || !online() || !(self.crypto && crypto.subtle)) return;
  try {
    const c = await (await fetch("/v1/devices/challenge", {method: "POST"})).json();
    const nonce = await solveChallenge(c.challenge, c.bits);
    const r = await fetch("/v1/devices", {method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({challenge: c.challenge, nonce})});
    if (r.status === 201) localStorage.setItem(ISSUED_KEY, (await r.json()).device_id);
  } catch (e) { /* offline or refused: try again on the next visit */ }
}

fetchIssuedId();
