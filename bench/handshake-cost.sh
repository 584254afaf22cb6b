#!/bin/bash
# What one handshake (connect, upgrade, close) costs a server, measured in ways that move less
# with the load on a shared machine than handshakes/s do. Run `npm run bench -- --help` once
# first: it builds the servers (.build/bench/servers); the generator is built here when missing.
#
#   bench/handshake-cost.sh SERVER cpu [N]   server CPU (utime+stime from /proc/PID/stat, and the
#                                            user part) over N handshakes, 200 at a time, in µs each
#   bench/handshake-cost.sh SERVER gc [N]    V8's young-generation collections (scavenges) over N
#                                            handshakes, 200 at a time, from --trace-gc-nvp: how many
#                                            per 1,000 handshakes, their pause in µs per handshake,
#                                            and the bytes each promotes to the old generation
#   bench/handshake-cost.sh SERVER ir [N]    instructions the server executes per handshake in user
#                                            space, under valgrind's callgrind, one handshake at a
#                                            time (no batching of events, which varies with timing);
#                                            node runs --single-threaded so GC and compiler work is counted
#
# SERVER: wsx, wsx-http, ws, net-handshake, net-handshake-checked. ROOT=/other/checkout measures that checkout's build.
# Every run first makes WARM (15,000) unmeasured handshakes, so that the JIT has settled. The
# instruction counts still move by a few % from run to run (a major GC in the window or not):
# take the median of several.
set -eu
S=$1; MODE=$2; N=${3:-5000}
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
LG=$("$(dirname "$0")/loadgen/build.sh")
ENV=()
case $S in
  wsx) SCRIPT=wsx.js ;;
  wsx-http) SCRIPT=wsx.js; ENV=(WSX_HTTP_PARSER=1) ;;
  ws) SCRIPT=ws.js; ENV=(WS_NO_BUFFER_UTIL=1) ;;
  net-handshake) SCRIPT=net-handshake.js ;;
  net-handshake-checked) SCRIPT=net-handshake-checked.js ;;
  *) echo "unknown server $S" >&2; exit 2 ;;
esac
SCRIPT=$ROOT/.build/bench/servers/$SCRIPT
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
if [ "$MODE" = ir ]; then
  env "${ENV[@]}" valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$OUT/cg.out" \
    node --single-threaded "$SCRIPT" --port=0 >"$OUT/srv.out" 2>"$OUT/srv.err" &
elif [ "$MODE" = gc ]; then
  env "${ENV[@]}" taskset -c 0 node --trace-gc-nvp "$SCRIPT" --port=0 >"$OUT/srv.out" 2>"$OUT/srv.err" &
else
  env "${ENV[@]}" taskset -c 0 node "$SCRIPT" --port=0 >"$OUT/srv.out" 2>"$OUT/srv.err" &
fi
for _ in $(seq 1 600); do grep -q READY "$OUT/srv.out" 2>/dev/null && break; sleep 0.1; done
PORT=$(grep -o 'port=[0-9]*' "$OUT/srv.out" | cut -d= -f2)
PID=$(grep -o 'pid=[0-9]*' "$OUT/srv.out" | cut -d= -f2)
gen() { taskset -c 1 "$LG" --port="$PORT" --mode=handshake --warm-total=0 --timeout=600 "$@"; }
gen --total="${WARM:-15000}" --concurrency=200 >/dev/null
if [ "$MODE" = ir ]; then
  # The one-at-a-time pattern gives the JIT other feedback: functions deoptimize when it
  # starts and are compiled again over the next few thousand handshakes. After 1,000 of them
  # a window still held ~17k instructions of compiler work per handshake for wsx (Node 20);
  # after 6,000, none.
  gen --total=6000 --concurrency=1 >/dev/null
  callgrind_control -i on "$PID" >/dev/null 2>&1
  gen --total="$N" --concurrency=1 >"$OUT/gen.json"
  callgrind_control -i off "$PID" >/dev/null 2>&1
  kill "$PID"; wait
  IR=$(callgrind_annotate "$OUT"/cg.out* 2>/dev/null | grep -m1 'PROGRAM TOTALS' | awk '{gsub(",","",$1); print $1}')
  echo "$S instructions/handshake $((IR / N)) $(grep -o '"ok":[a-z]*' "$OUT/gen.json")"
elif [ "$MODE" = gc ]; then
  sleep 0.3
  SKIP=$(wc -l <"$OUT/srv.out")
  gen --total="$N" --concurrency=200 >"$OUT/gen.json"
  sleep 0.3
  kill "$PID"; wait
  # One line per collection; the scavenges (gc=s) after the warm-up are counted.
  tail -n +"$((SKIP + 1))" "$OUT/srv.out" | grep ' gc=s ' | awk -v n="$N" -v name="$S" -v ok="$(grep -o '"ok":[a-z]*' "$OUT/gen.json")" '
    { for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "pause") p += kv[2]; if (kv[1] == "promoted") b += kv[2] } c++ }
    END { printf "%s scavenges/1000 handshakes %.2f, pause µs/handshake %.2f, promoted KiB/scavenge %.0f %s\n", name, c * 1000 / n, p * 1000 / n, (c ? b / c / 1024 : 0), ok }'
else
  read -r U0 S0 < <(awk '{print $14, $15}' "/proc/$PID/stat")
  gen --total="$N" --concurrency=200 >"$OUT/gen.json"
  read -r U1 S1 < <(awk '{print $14, $15}' "/proc/$PID/stat")
  kill "$PID"; wait
  TCK=$(getconf CLK_TCK)
  awk -v u="$((U1 - U0))" -v s="$((S1 - S0))" -v t="$TCK" -v n="$N" -v name="$S" -v ok="$(grep -o '"ok":[a-z]*' "$OUT/gen.json")" \
    'BEGIN { printf "%s cpu µs/handshake %.1f (user %.1f, system %.1f) %s\n", name, (u + s) * 1e6 / t / n, u * 1e6 / t / n, s * 1e6 / t / n, ok }'
fi
