#!/bin/sh
# demo.sh [ramp-demo options] — ramp's main job (`make demo`, issue 6). Installs what it needs
# (scripts/bootstrap.sh), builds ramp, the demo service and the runner (release preset), then
# runs demo/runner: HAProxy + Prometheus + `ramp serve` on loopback, v1 -> v2 (promoted) ->
# v3 (10% errors, aborted), a table per release. `make demo ARGS=--once` exits after the table
# (0 only if every outcome was the expected one); other options: ramp-demo --help.
set -eu
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
export CCACHE_NOHASHDIR=true CCACHE_BASEDIR="$PWD"
cmake --preset release >/dev/null
cmake --build build/release -j 2 --target ramp ramp-demo-service ramp-demo
exec build/release/demo/runner/ramp-demo "$@"
