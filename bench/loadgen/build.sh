#!/bin/bash
# Builds the load generator into bench/results/loadgen when it is missing or older than its
# source (as `npm run bench` does), and prints its path: the cost scripts call it first.
set -eu
REPO=$(cd "$(dirname "$0")/../.." && pwd)
SRC=$REPO/bench/loadgen/loadgen.c
BIN=$REPO/bench/results/loadgen
if [ ! -x "$BIN" ] || [ "$SRC" -nt "$BIN" ]; then
  mkdir -p "$REPO/bench/results"
  "${CC:-cc}" -O2 -Wall -o "$BIN" "$SRC" >&2
fi
echo "$BIN"
