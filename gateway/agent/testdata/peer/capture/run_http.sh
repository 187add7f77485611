#!/usr/bin/env bash
# HTTP capture of the original's /v1 endpoints. Run inside: unshare -n bash run_http.sh [exchanges]
# ENDPOINTS=0 starts the gateway with both endpoints disabled (for the *-disabled exchanges).
set -uo pipefail
ip link set lo up
DIR=$(cd "$(dirname "$0")" && pwd)
PEER_ROOT=/root/.cache/clawdbot-peer
PORT=28931; UPPORT=28932
P=$PEER_ROOT/run/$PORT-http
OUT=${OUT:-$DIR/out-http}
ON=true; [ "${ENDPOINTS:-1}" = 0 ] && ON=false
rm -rf "$P"; mkdir -p "$OUT" "$P"/{home,state,tmp,logs}
cat > "$P/state/clawdbot.json" <<JSON
{
  "gateway": { "mode": "local", "bind": "loopback", "port": $PORT, "auth": { "mode": "token", "token": "peer-token-0123456789" },
    "http": { "endpoints": { "chatCompletions": { "enabled": $ON }, "responses": { "enabled": $ON } } } },
  "update": { "checkOnStart": false },
  "commands": { "restart": true },
  "canvasHost": { "enabled": false },
  "cron": { "enabled": false },
  "browser": { "enabled": false },
  "discovery": { "wideArea": { "enabled": false } },
  "models": { "providers": { "fake": { "baseUrl": "http://127.0.0.1:$UPPORT/v1", "apiKey": "sk-fake", "api": "openai-completions",
      "models": [ { "id": "fake-model", "name": "Fake" } ] } } },
  "agents": { "defaults": { "heartbeat": { "every": "0m" }, "model": { "primary": "fake/fake-model" } } },
  "logging": { "file": "$P/logs/clawdbot.log" },
  "plugins": { "enabled": false }
}
JSON
cp "$P/state/clawdbot.json" "$OUT/peer-config-endpoints-$ON.json"
"$DIR/peercap" -mode upstream -upaddr 127.0.0.1:$UPPORT -out "$OUT/upstream" >"$OUT/upstream-$ON.log" 2>&1 &
UPID=$!
export PATH="$PEER_ROOT/bin:$PATH"
export HOME="$P/home" TMPDIR="$P/tmp"
export CLAWDBOT_STATE_DIR="$P/state" CLAWDBOT_CONFIG_PATH="$P/state/clawdbot.json"
export CLAWDBOT_SKIP_CHANNELS=1 CLAWDBOT_SKIP_CANVAS_HOST=1 CLAWDBOT_SKIP_BROWSER_CONTROL_SERVER=1
export CLAWDBOT_SKIP_GMAIL_WATCHER=1 CLAWDBOT_SKIP_CRON=1 CLAWDBOT_DISABLE_BONJOUR=1
export CLAWDBOT_NO_RESPAWN=1 CLAWDBOT_HIDE_BANNER=1 NO_COLOR=1 FORCE_COLOR=0
unset CLAWDBOT_GATEWAY_TOKEN CLAWDBOT_GATEWAY_PASSWORD CLAWDBOT_PROFILE
ENTRY=$PEER_ROOT/cb/node_modules/clawdbot/dist/entry.js
node --version > "$OUT/node-version.txt"
node "$ENTRY" --version > "$OUT/clawdbot-version.txt" 2>&1 || true
timeout -k 5 400 node "$ENTRY" gateway --port $PORT --bind loopback --tailscale off >"$P/logs/gateway.out" 2>&1 &
GPID=$!
for i in $(seq 300); do grep -q "listening on ws://" "$P/logs/gateway.out" 2>/dev/null && break; sleep 0.1; done
sleep 0.5
echo "gateway up after ~$((i/10))s"
timeout -k 5 300 "$DIR/peercap" -mode http -http http://127.0.0.1:$PORT -upctl http://127.0.0.1:$UPPORT/_scenario -out "$OUT" -only "${1:-}"
echo "driver rc=$?"
cp "$P/logs/gateway.out" "$OUT/gateway-$ON.out.txt"
kill -TERM $GPID; for i in $(seq 80); do kill -0 $GPID 2>/dev/null || break; sleep 0.1; done; kill -KILL $GPID 2>/dev/null
kill $UPID
wait
echo done
