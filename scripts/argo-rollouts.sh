#!/bin/bash
# argo-rollouts.sh — the real `kubectl argo rollouts` plugin (kubectl-argo-rollouts) for ramp's
# Kubernetes tests (docs/platforms/kubernetes.md, "The kubectl argo rollouts plugin"), and Argo
# Rollouts' own controller (rollouts-controller) for the benchmark bench/kubernetes.
#
#   argo-rollouts.sh build              builds the plugin once per version; prints its path.
#                                       Reuses the cached build when present.
#   argo-rollouts.sh bin                prints the path if the build is cached (exit 1 if not)
#   argo-rollouts.sh build-controller   the same for Argo's controller (rollouts-controller)
#   argo-rollouts.sh controller-bin     prints the controller's path if cached (exit 1 if not)
#
# Both come from the Go module proxy through the wrapper module tools/argo-rollouts (its
# go.mod requires github.com/argoproj/argo-rollouts and, as Argo's own go.mod does, replaces the
# Kubernetes staging modules by their published releases; go.sum checks every module), built by
# an ordinary `go build` into ${RAMP_KUBE_CACHE:-${XDG_CACHE_HOME:-~/.cache}/ramp/kube}/
# argo-rollouts-<key>/{kubectl-argo-rollouts,rollouts-controller}, key = hash of the wrapper's go.mod/go.sum, the Go
# version and this recipe's revision. The same cache directory, Go module cache and build cache
# as scripts/kube-cluster.sh. Argo v1.10.2's go.mod says `go 1.26.10`, so the toolchain is
# scripts/go-toolchain.sh's 1.26.10 (installed once beside the other when the machine's Go is
# older). Each build runs under `nice -n 19` with `go build -p 2` (RAMP_KUBE_GO_P overrides).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOL=$ROOT/tools/argo-rollouts
CACHE=${RAMP_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ramp/kube}
# The Go release the wrapper's go.mod asks for (its `go` line; go-toolchain.sh pins it).
GO_MIN=$(awk '$1 == "go" { print $2; exit }' "$TOOL/go.mod")
# Bump when the build recipe (flags) changes so cached builds are not reused.
RECIPE=1

die() {
  echo "argo-rollouts.sh: $*" >&2
  exit 1
}

# shellcheck source=go-env.sh
. "$ROOT/scripts/go-env.sh"

# The Argo release the wrapper requires (v1.10.2); stamped without its "v" as Argo's Makefile
# does, so `kubectl-argo-rollouts version` prints v1.10.2+unknown (no git commit to add).
version() {
  awk '$1 == "github.com/argoproj/argo-rollouts" { print $2; exit }' "$TOOL/go.mod"
}

cache_key() {
  {
    echo "recipe $RECIPE"
    "$GO" env GOVERSION GOOS GOARCH
    grep -v '^//' "$TOOL/go.mod"
    cat "$TOOL/go.sum"
  } | sha256sum | cut -c1-16
}

# out_path NAME: where the build of NAME (kubectl-argo-rollouts or rollouts-controller) is cached.
out_path() {
  echo "$CACHE/argo-rollouts-$(cache_key)/$1"
}

cmd_bin() {
  go_env "$GO_MIN"
  local out
  out=$(out_path "$1")
  [ -x "$out" ] || return 1
  echo "$out"
}

# cmd_build NAME: builds github.com/argoproj/argo-rollouts/cmd/NAME (a `tool` of the wrapper)
# unless cached; prints its path. The build log (with its times) is beside it, build.log.
cmd_build() {
  go_env "$GO_MIN"
  local name=$1 key dir log t0 v
  key=$(cache_key)
  dir=$CACHE/argo-rollouts-$key
  mkdir -p "$dir"
  exec 9>"$dir/lock"
  flock 9
  if [ -x "$dir/$name" ]; then
    echo "$dir/$name"
    return 0
  fi
  log=$dir/build.log
  t0=$(date +%s)
  v=$(version)
  {
    echo "argo-rollouts.sh build $name: key $key, github.com/argoproj/argo-rollouts $v," \
      "$("$GO" env GOVERSION), started $(date -u +%FT%TZ)"
    local TIMEFORMAT="$name: wall %R s, user %U s, sys %S s"
    time (cd "$TOOL" && nice -n 19 "$GO" build -p "${RAMP_KUBE_GO_P:-2}" -trimpath \
      -ldflags "-s -w -X github.com/argoproj/argo-rollouts/utils/version.version=${v#v}" \
      -o "$dir/$name.tmp" "github.com/argoproj/argo-rollouts/cmd/$name") || exit 1
    echo "total: $(($(date +%s) - t0)) s"
  } >>"$log" 2>&1 || die "build failed; log: $log"
  mv "$dir/$name.tmp" "$dir/$name"
  echo "$dir/$name"
}

case ${1:-} in
  build) cmd_build kubectl-argo-rollouts ;;
  bin) cmd_bin kubectl-argo-rollouts ;;
  build-controller) cmd_build rollouts-controller ;;
  controller-bin) cmd_bin rollouts-controller ;;
  *) die "usage: argo-rollouts.sh build|bin|build-controller|controller-bin" ;;
esac
