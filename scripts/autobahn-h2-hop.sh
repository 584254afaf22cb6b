#!/usr/bin/env bash
# Autobahn|TestSuite cannot speak HTTP/2, so this runs its fuzzing client (categories 1-10 by
# default) through an h2 hop: Autobahn -> HAProxy (HTTP/1.1 frontend) -> h2c, RFC 8441
# extended CONNECT -> `wsx serve --echo --http2` (h2c only: every WebSocket it serves is an
# HTTP/2 stream). Needs a build (npm run build), haproxy, and the suite (../shared/autobahn or
# $AUTOBAHN_DIR).
#   scripts/autobahn-h2-hop.sh [CASES_JSON] [OUTDIR]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SUITE=${AUTOBAHN_DIR:-$ROOT/../shared/autobahn}
CASES=${1:-'["1.*","2.*","3.*","4.*","5.*","6.*","7.*","8.*","9.*","10.*"]'}
OUT=${2:-$ROOT/test-artifacts/autobahn-h2-hop}
WORK=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

node "$ROOT/dist/cli/main.js" serve --echo --http2 --port 0 --host 127.0.0.1 --max-payload 67108864 \
  >"$WORK/wsx.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$WORK/wsx.log" && break; sleep 0.1; done
WSX_PORT=$(sed -n 's|^wsx listening on ws://127.0.0.1:\([0-9]*\)/$|\1|p' "$WORK/wsx.log")
# Without a port HAProxy would connect to its own frontend's port: stop here instead.
[ -n "$WSX_PORT" ] || { echo "wsx serve did not start: $(cat "$WORK/wsx.log")" >&2; exit 1; }
HOP_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$WORK/haproxy.cfg" <<CFG
global
  pidfile $WORK/haproxy.pid
defaults
  mode http
  timeout connect 10s
  timeout client 60s
  timeout server 60s
  timeout tunnel 1h
frontend h1_in
  bind 127.0.0.1:$HOP_PORT
  default_backend wsx
backend wsx
  server wsx 127.0.0.1:$WSX_PORT proto h2 ws h2
CFG
haproxy -f "$WORK/haproxy.cfg" -db >"$WORK/haproxy.log" 2>&1 &
pids+=($!)
sleep 1
"$SUITE/run-fuzzingclient.sh" "ws://127.0.0.1:$HOP_PORT" wsx-h2-hop "$OUT" "$CASES"
python3 - "$OUT/index.json" <<'PY'
import collections, json, sys
results = json.load(open(sys.argv[1]))["wsx-h2-hop"]
counts = collections.Counter(f"{r['behavior']}/{r['behaviorClose']}" for r in results.values())
print(f"{len(results)} cases through the h2 hop: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
bad = [k for k, r in results.items() if r["behavior"] not in ("OK", "INFORMATIONAL") or r["behaviorClose"] not in ("OK", "INFORMATIONAL")]
sys.exit(1 if bad else 0)
PY
