#!/usr/bin/env bash
# Copy a capture run (OUT) into the worktree's testdata.
set -euo pipefail
OUT=${OUT:-/tmp/peercap/out}
D=/work/wt-peercap/gateway/agent/testdata/peer
mkdir -p "$D/state" "$D/capture"
for f in "$OUT"/frames-*.json "$OUT"/upstream-requests-*.json; do
  b=$(basename "$f"); [[ $b == upstream-requests-unscoped.json ]] && continue
  cp "$f" "$D/$b"
done
for s in "$OUT"/state-*; do l=${s##*/state-}; rm -rf "$D/state/$l"; cp -a "$s" "$D/state/$l"; done
cp "$OUT"/cli-sessions-json.json "$D/cli-sessions-json.json"
cp "$OUT"/cli-sessions-text.txt "$D/cli-sessions-text.txt"
cp "$OUT"/clawdbot.json "$D/peer-config.json"
cp "$OUT"/gateway.out.txt "$D/gateway-stdout.txt"
cp "$OUT"/clawdbot.log.jsonl "$D/gateway-log.jsonl"
cp "$OUT"/fs-watch.json "$D/fs-watch.json"
cp "$OUT"/node-version.txt "$OUT"/clawdbot-version.txt "$D/capture/"
cp /tmp/peercap/{go.mod,go.sum,main.go,upstream.go,scenarios.go,run_all.sh,install.sh} "$D/capture/"
python3 /tmp/peercap/dedupe_upstream.py "$D"/upstream-requests-*.json
