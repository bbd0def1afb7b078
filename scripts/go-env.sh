# go-env.sh — sourced (bash) by the scripts that build Go programs for ramp's tests into the
# shared cache (kube-cluster.sh, cosign.sh, argo-rollouts.sh). Needs ROOT (the checkout), CACHE
# (the cache directory) and a die function. go_env [VERSION] sets GO to the toolchain of
# scripts/go-toolchain.sh (at least Go VERSION when given, e.g. a wrapper's `go` line) and
# exports the Go environment: module and build caches under $CACHE/go, no cgo, no workspace,
# no toolchain switching.
go_env() {
  GO=$("$ROOT/scripts/go-toolchain.sh" "$@") || die "no Go toolchain (scripts/go-toolchain.sh failed)"
  export GOMODCACHE=$CACHE/go/mod GOCACHE=$CACHE/go/build GOFLAGS=-modcacherw GOTOOLCHAIN=local
  export CGO_ENABLED=0 GOWORK=off
}
