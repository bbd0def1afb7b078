#!/bin/sh
# fuzz.sh BUILD_DIR SECONDS — runs every libFuzzer target in BUILD_DIR/fuzz for SECONDS each,
# under ASan/UBSan, starting from its committed corpus (fuzz/corpus/<target>). New inputs go to
# a scratch directory, never into the committed corpus. Fails on the first crash.
set -eu
build=$1
seconds=$2
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
found=0
[ -d "$build/fuzz" ] || { echo "fuzz: no fuzz targets built in $build" >&2; exit 1; }
for bin in $(find "$build/fuzz" -type f -name 'fuzz_*' -perm -u+x | sort); do
  name=$(basename "$bin")
  found=$((found + 1))
  mkdir -p "$scratch/$name"
  echo "fuzz: $name for ${seconds}s"
  # -timeout: one input may take this long before it counts as a hang. An input's work is
  # bounded by each target's own limits (the condition language's budget of a million steps:
  # all(1..499999, all(1..0, true)) on fuzz_expr's eight results takes ~19 s under the
  # sanitizers), so only unbounded work exceeds a minute.
  "$bin" -max_total_time="$seconds" -timeout=60 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$scratch/" \
    "$scratch/$name" "$root/fuzz/corpus/$name" > "$scratch/$name.log" 2>&1 || {
      tail -60 "$scratch/$name.log" >&2
      echo "fuzz: $name FAILED" >&2
      exit 1
    }
  grep -E 'stat::number_of_executed_units' "$scratch/$name.log" | sed "s/^/  /"
done
if [ "$found" -eq 0 ]; then echo "fuzz: no fuzz targets found in $build/fuzz" >&2; exit 1; fi
echo "fuzz: $found targets passed"
