#!/usr/bin/env bash
# Runs the whole system in the foreground: the API server, the escalation worker and, when a
# token is configured, the alert pollers. Ctrl-C stops them all.
set -euo pipefail
BIN=${BIN:-.venv/bin}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}

# Links sent to keyholders point at this server unless a public address is configured.
export SHELTERWATCH_PUBLIC_BASE_URL=${SHELTERWATCH_PUBLIC_BASE_URL:-http://$HOST:$PORT}

pids=()
stop() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait || true; }
trap stop EXIT INT TERM

"$BIN/shelterwatch" worker & pids+=($!)
if [ -n "${SHELTERWATCH_ALERTS_IN_UA_TOKEN:-}" ]; then
  "$BIN/shelterwatch" alerts poll alerts-in-ua & pids+=($!)
fi
if [ -n "${SHELTERWATCH_UKRAINEALARM_KEY:-}" ]; then
  "$BIN/shelterwatch" alerts poll ukrainealarm & pids+=($!)
fi
echo "shelterwatch: http://$HOST:$PORT/ (resident page), /console (operators), /docs (API)"
"$BIN/shelterwatch" serve --host "$HOST" --port "$PORT"
