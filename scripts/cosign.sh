#!/bin/bash
# cosign.sh — the real `cosign` for src/supply's tests (docs/supply-chain.md, "Tests").
#
#   cosign.sh build   builds cosign (and ociregistry, below) once per version; prints the path of
#                     cosign. Reuses the cached build when present.
#   cosign.sh bin     prints the path if the build is cached (exit 1 if not); ociregistry is
#                     beside it
#
# cosign comes from the Go module proxy through the wrapper module tools/cosign (its go.mod
# pins github.com/sigstore/cosign/v3 and every dependency, go.sum checks them), built by an
# ordinary `go build` into ${RAMP_KUBE_CACHE:-${XDG_CACHE_HOME:-~/.cache}/ramp/kube}/
# cosign-<key>/cosign, key = hash of the wrapper's go.mod/go.sum, the Go version and this
# recipe's revision. Beside it, ociregistry (tools/cosign/ociregistry): go-containerregistry's
# registry with the OCI 1.1 referrers API on, which neither docker-registry nor `crane registry
# serve` offers. The same cache directory, Go module cache and build cache as
# scripts/kube-cluster.sh. The toolchain comes from scripts/go-toolchain.sh. The build runs
# under `nice -n 19` with `go build -p 2` (RAMP_KUBE_GO_P overrides): about 6.5 min of CPU
# (measured: wall 27 min at -p 1 on a busy 2-core machine), then nothing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOL=$ROOT/tools/cosign
CACHE=${RAMP_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ramp/kube}
# Bump when the build recipe (flags) changes so cached builds are not reused.
RECIPE=1

die() {
  echo "cosign.sh: $*" >&2
  exit 1
}

# shellcheck source=go-env.sh
. "$ROOT/scripts/go-env.sh"

cache_key() {
  {
    echo "recipe $RECIPE"
    "$GO" env GOVERSION GOOS GOARCH
    grep -v '^//' "$TOOL/go.mod"
    cat "$TOOL/go.sum" "$TOOL/ociregistry/main.go"
  } | sha256sum | cut -c1-16
}

cmd_bin() {
  go_env
  local out
  out=$CACHE/cosign-$(cache_key)/cosign
  [ -x "$out" ] && [ -x "$(dirname "$out")/ociregistry" ] || return 1
  echo "$out"
}

cmd_build() {
  go_env
  local key dir log t0
  key=$(cache_key)
  dir=$CACHE/cosign-$key
  mkdir -p "$dir"
  exec 9>"$dir/lock"
  flock 9
  if [ -x "$dir/cosign" ] && [ -x "$dir/ociregistry" ]; then
    echo "$dir/cosign"
    return 0
  fi
  log=$dir/build.log
  t0=$(date +%s)
  {
    echo "cosign.sh build: key $key, $(awk '$1 == "github.com/sigstore/cosign/v3" { print $1, $2; exit }' "$TOOL/go.mod")," \
      "$("$GO" env GOVERSION), started $(date -u +%FT%TZ)"
    local TIMEFORMAT="cosign: wall %R s, user %U s, sys %S s"
    time (cd "$TOOL" && nice -n 19 "$GO" build -p "${RAMP_KUBE_GO_P:-2}" -ldflags "-s -w" \
      -o "$dir/cosign.tmp" github.com/sigstore/cosign/v3/cmd/cosign) || exit 1
    (cd "$TOOL" && nice -n 19 "$GO" build -ldflags "-s -w" -o "$dir/ociregistry" ./ociregistry) ||
      exit 1
    echo "total: $(($(date +%s) - t0)) s"
  } >>"$log" 2>&1 || die "build failed; log: $log"
  mv "$dir/cosign.tmp" "$dir/cosign"
  echo "$dir/cosign"
}

case ${1:-} in
  build) cmd_build ;;
  bin) cmd_bin ;;
  *) die "usage: cosign.sh build|bin" ;;
esac
