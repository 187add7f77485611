#!/usr/bin/env bash
# Copy an HTTP capture run (run_http.sh's OUT) into gateway/httpapi/testdata/peer.
set -euo pipefail
DIR=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-$DIR/out-http}
D=${DEST:-$DIR/../../../../httpapi/testdata/peer}
mkdir -p "$D"
cp "$OUT"/exchange-*.json "$D/"
cp "$OUT"/peer-config-endpoints-*.json "$D/"
cp "$OUT"/node-version.txt "$OUT"/clawdbot-version.txt "$D/"
