#!/bin/sh
# bench.sh BUILD_DIR — runs every benchmark binary and prints its table.
set -eu
build=$1
for bin in "$build"/bench/bench_*; do
  [ -x "$bin" ] || continue
  echo "== $(basename "$bin")"
  "$bin"
done
