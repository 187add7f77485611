#!/usr/bin/env bash
# Run inside: unshare -n bash run_all.sh [scenarios]
set -uo pipefail
ip link set lo up
PEER_ROOT=/root/.cache/clawdbot-peer
PORT=28931; UPPORT=28932
P=$PEER_ROOT/run/$PORT
OUT=${OUT:-/tmp/peercap/out}
mkdir -p "$OUT"
if [ "${FRESH:-1}" = 1 ]; then rm -rf "$P"; rm -rf "$OUT"; mkdir -p "$OUT"; fi
mkdir -p "$P"/{home,state,tmp,logs}
cat > "$P/state/clawdbot.json" <<JSON
{
  "gateway": { "mode": "local", "bind": "loopback", "port": $PORT, "auth": { "mode": "token", "token": "peer-token-0123456789" } },
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
cp "$P/state/clawdbot.json" "$OUT/clawdbot.json"
/tmp/peercap/peercap -mode upstream -upaddr 127.0.0.1:$UPPORT -out "$OUT" >"$OUT/upstream.log" 2>&1 &
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
timeout -k 5 600 node "$ENTRY" gateway --port $PORT --bind loopback --tailscale off >"$P/logs/gateway.out" 2>&1 &
GPID=$!
for i in $(seq 300); do grep -q "listening on ws://" "$P/logs/gateway.out" 2>/dev/null && break; sleep 0.1; done
sleep 0.5
echo "gateway up after ~$((i/10))s"
PEER_STATE="$P/state" timeout -k 5 480 /tmp/peercap/peercap -url ws://127.0.0.1:$PORT -upctl http://127.0.0.1:$UPPORT/_scenario -out "$OUT" -only "${1:-}" ${EXTRA:+-extra}
echo "driver rc=$?"
# the original CLI, bounded
export CLAWDBOT_GATEWAY_PORT=$PORT
timeout -k 5 60 node "$ENTRY" sessions --json >"$OUT/cli-sessions-json.json" 2>"$OUT/cli-sessions-json.stderr.txt"; echo "cli sessions rc=$?"
timeout -k 5 60 node "$ENTRY" sessions >"$OUT/cli-sessions-text.txt" 2>&1; echo "cli sessions text rc=$?"
cp "$P/logs/gateway.out" "$OUT/gateway.out.txt"
cp "$P/logs/clawdbot.log" "$OUT/clawdbot.log.jsonl" 2>/dev/null
kill -TERM $GPID; for i in $(seq 80); do kill -0 $GPID 2>/dev/null || break; sleep 0.1; done; kill -KILL $GPID 2>/dev/null
kill $UPID
wait
echo done
