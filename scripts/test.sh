#!/bin/bash
# test.sh BUILD_DIR JOBS — what `make test` runs after bootstrap and the format check: the C++
# build, clang-tidy, every ctest test, the bounded fuzzing.
#
# The Go-built test components (the Kubernetes control plane and kwok, cosign, Argo's plugin;
# each cached per version outside the checkout, so with a warm cache this costs seconds) build
# in the background from the start, at the lowest CPU priority (their scripts run `go build`
# under `nice -n 19`): on empty caches they take ~20 minutes of CPU, which they take from the
# idle time of the C++ build's links, the integration tests' waits and the single-threaded fuzz
# runs instead of adding it to the run. The tests that need them (ctest label `go`) run last,
# once the builds are done. Their output is in BUILD_DIR/go-builds.log; in CI (CI set) a failed
# build fails the run, elsewhere those tests then report themselves skipped.
set -euo pipefail
build=$1
jobs=$2
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mkdir -p "$build"
log=$build/go-builds.log

# Its own session, so that a failure below stops it with every `go` process it started. A new
# session is a new scheduler autogroup where the kernel has them (sched_autogroup_enabled): nice
# counts only within a group, and each group gets an equal share of the CPU, so the builds' nice
# 19 gave them half the machine against the C++ build until the group's own nice was set too.
setsid bash -c 'echo 19 >/proc/self/autogroup 2>/dev/null || true
  exec make --no-print-directory kube-build cosign-build argo-build' >"$log" 2>&1 &
go_pid=$!
stop_go() { kill -- "-$go_pid" 2>/dev/null || true; }
trap stop_go EXIT

make --no-print-directory build
./scripts/tidy.py --jobs "$jobs" ${TIDY_ARGS:-} "$build"
(cd "$build" && ctest -j "$jobs" -LE '^go$' --output-on-failure)
make --no-print-directory fuzz

echo "test: waiting for the Go builds (log: $log)"
if ! wait "$go_pid"; then
  tail -40 "$log" >&2
  echo "test: the Go builds failed" >&2
  exit 1
fi
trap - EXIT
cat "$log"
(cd "$build" && ctest -j "$jobs" -L '^go$' --output-on-failure)
