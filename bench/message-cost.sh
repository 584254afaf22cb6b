#!/bin/bash
# Instructions a server executes per message in user space, under valgrind's callgrind: a
# figure that hardly moves with the load on a shared machine, to compare one change with the
# next where messages per second drift by more than the change. Run `npm run bench -- --help`
# once first: it builds the servers (.build/bench/servers); the generator is built here when missing.
#
#   bench/message-cost.sh SERVER [loadgen args...]
#     bench/message-cost.sh wsx --conns=1000 --inflight=1 --size=32          # 32 B echo, one at a time
#     bench/message-cost.sh wsx --conns=100 --inflight=8 --size=1024 --text  # 1 KiB text, batched
#     bench/message-cost.sh wsx --mode=broadcast --conns=2000 --rounds=1000000 --payload=64
#     bench/message-cost.sh net --conns=1000 --inflight=1 --size=32 --proto=raw
#     bench/message-cost.sh wsx-deflate        # compressed 1 KiB JSON echo, 100 x 8 (bench/deflate's load)
#
# SERVER: wsx, net, or wsx-deflate (the permessage-deflate bench's wsx server and its load
# generator, bench/deflate/load.js, which takes that bench's --conns, --inflight and --size).
# The server counts what it handled (echoes, and for wsx the deliveries of its broadcasts; for
# net, reads: one per message only with one message in flight per connection) and prints the
# count on SIGHUP; instructions are counted over WINDOW (15) seconds after WARM (25)
# seconds of load, and divided by the count over the same window. node runs --single-threaded so
# that GC and compiler work is counted. ROOT=/other/checkout measures that checkout's build (its
# bench servers must count, as they do from the commit that added this script on).
set -eu
S=$1
shift
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
LG=$("$(dirname "$0")/loadgen/build.sh")
SERVER_ARGS=()
case $S in
  wsx | net) SCRIPT=$ROOT/.build/bench/servers/$S.js ;;
  wsx-deflate) SCRIPT=$ROOT/.build/bench/deflate/server.js; SERVER_ARGS=(--impl=wsx) ;;
  *) echo "unknown server $S (wsx, net or wsx-deflate)" >&2; exit 2 ;;
esac
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$OUT/cg.out" \
  node --single-threaded "$SCRIPT" "${SERVER_ARGS[@]}" --port=0 >"$OUT/srv.out" 2>"$OUT/srv.err" &
for _ in $(seq 1 600); do grep -q READY "$OUT/srv.out" 2>/dev/null && break; sleep 0.1; done
PORT=$(grep -o 'port=[0-9]*' "$OUT/srv.out" | cut -d= -f2)
PID=$(grep -o 'pid=[0-9]*' "$OUT/srv.out" | cut -d= -f2)
if [ "$S" = wsx-deflate ]; then
  # The deflate bench's own clients: they offer permessage-deflate and send compressed messages.
  LOAD_ARGS=("$@")
  [ ${#LOAD_ARGS[@]} -eq 0 ] && LOAD_ARGS=(--conns=100 --inflight=8 --size=1024)
  node "$ROOT/.build/bench/deflate/load.js" --mode=echo --url="ws://127.0.0.1:$PORT/" --warmup=1 --duration=600 \
    "${LOAD_ARGS[@]}" >"$OUT/gen.json" 2>&1 &
else
  "$LG" --port="$PORT" --warmup=1 --duration=600 --timeout=900 "$@" >"$OUT/gen.json" 2>&1 &
fi
GEN=$!
sleep "${WARM:-25}"
kill -HUP "$PID"
callgrind_control -i on "$PID" >/dev/null 2>&1
sleep "${WINDOW:-15}"
kill -HUP "$PID"
callgrind_control -i off "$PID" >/dev/null 2>&1
sleep 0.5
kill "$GEN" 2>/dev/null || true
kill "$PID"
wait 2>/dev/null || true
C0=$(grep '^COUNT' "$OUT/srv.out" | head -1 | awk '{print $2}')
C1=$(grep '^COUNT' "$OUT/srv.out" | tail -1 | awk '{print $2}')
IR=$(callgrind_annotate "$OUT"/cg.out* 2>/dev/null | grep -m1 'PROGRAM TOTALS' | awk '{gsub(",","",$1); print $1}')
N=$((C1 - C0))
if [ "$N" -le 0 ]; then
  echo "$S: no messages counted in the window (see the generator's output: $(tail -c 300 "$OUT/gen.json"))" >&2
  exit 1
fi
echo "$S instructions/message $((IR / N)) (messages in the window: $N)"
if [ "$S" = wsx-deflate ]; then
  # valgrind counts each byte of a `rep stosb` memset as an instruction (zlib clears its 64 KiB
  # hash table per message that way), so the part outside zlib and memset is given apart.
  ZLIB=$(callgrind_annotate --threshold=100 "$OUT"/cg.out* 2>/dev/null |
    awk '/^ *[0-9,]+ \(/ && !/PROGRAM/ && /deflate|longest_match|build_tree|pqdownheap|compress_block|send_tree|scan_tree|_tr_|fill_window|inflate|memset|bi_flush|gen_bitlen|gen_codes|adler32|crc32/ {
      v = $1; gsub(",", "", v); z += v } END { printf "%d", z }')
  echo "$S outside zlib and memset: $(((IR - ZLIB) / N)) instructions/message"
fi
