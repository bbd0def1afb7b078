#!/bin/sh
# go-toolchain.sh — prints the path of a `go` command of at least the version the Kubernetes test
# cluster's wrapper modules need (tools/kube/*/go.mod). Uses `go` from PATH or /usr/local/go when
# it is recent enough; otherwise installs the pinned toolchain once from the Go module proxy (the
# module golang.org/toolchain, checked against a pinned SHA-256) into
# ${RAMP_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ramp/kube}/go<version>. Called by
# scripts/kube-cluster.sh, i.e. only when the Kubernetes suites run; Debian 12's golang-go (1.19)
# is too old. Exit 1, with the reason on stderr, when no toolchain can be had.
#
#   go-toolchain.sh [VERSION]   VERSION (one of the pinned ones below) asks for at least that
#                               exact release, e.g. 1.26.10 for a module whose go.mod says
#                               `go 1.26.10` (scripts/argo-rollouts.sh); without it, any 1.26.x.
set -eu

GO_VERSION=${1:-1.26.8}
# SHA-256 of v0.0.1-go$GO_VERSION.linux-<arch>.zip as served by the Go module proxy.
case $GO_VERSION in
  1.26.8)
    SHA256_amd64=30c2b1bf7dcc88d3eb0a1364e47ddd9128edb3110a30e8a0ef61cd5856b31de7
    SHA256_arm64=
    ;;
  1.26.10)
    SHA256_amd64=f64ecb0807852be2c98899561c45288a9ad57f4e88f3cd002ffabeccbd03bfe1
    SHA256_arm64=195f18be92553fb272b9c4f9fca6e67b6a04d8831bf6c4b918ac70982fadb444
    ;;
  *)
    echo "go-toolchain.sh: Go $GO_VERSION is not pinned here" >&2
    exit 1
    ;;
esac
# With an argument the patch release counts too.
EXACT=${1:+1}
CACHE=${RAMP_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ramp/kube}

# version_ok GO: whether GO runs and reports go$GO_VERSION's minor (1.26) or newer (with an
# argument: GO_VERSION or newer).
version_ok() {
  v=$("$1" env GOVERSION 2>/dev/null) || return 1
  v=${v#go}
  major=${v%%.*}
  rest=${v#*.}
  minor=${rest%%.*}
  minor=${minor%%[!0-9]*}
  want_minor=$(echo "$GO_VERSION" | cut -d. -f2)
  if [ -n "$EXACT" ]; then
    # At least GO_VERSION itself (version sort).
    [ "$(printf '%s\n%s\n' "$GO_VERSION" "$v" | sort -V | head -n1)" = "$GO_VERSION" ]
    return
  fi
  [ "$major" = 1 ] && [ "${minor:-0}" -ge "$want_minor" ]
}

for g in "$(command -v go 2>/dev/null || true)" /usr/local/go/bin/go \
  "$CACHE/go$GO_VERSION/bin/go"; do
  if [ -n "$g" ] && [ -x "$g" ] && version_ok "$g"; then
    echo "$g"
    exit 0
  fi
done

case $(uname -m) in
  x86_64) arch=amd64 ;;
  aarch64) arch=arm64 ;;
  *) echo "go-toolchain.sh: no pinned Go toolchain for $(uname -m)" >&2; exit 1 ;;
esac
eval "want=\${SHA256_$arch}"
if [ -z "$want" ]; then
  echo "go-toolchain.sh: no pinned checksum for linux-$arch" >&2
  exit 1
fi
# The first proxy of GOPROXY (a comma- or pipe-separated list; "direct" and "off" are not proxies).
proxy=$(echo "${GOPROXY:-https://proxy.golang.org}" | tr ',|' '  ' | awk '{print $1}')
case $proxy in
  http://* | https://*) ;;
  *)
    echo "go-toolchain.sh: GOPROXY ($proxy) names no proxy to fetch Go $GO_VERSION from" >&2
    exit 1
    ;;
esac
mod=v0.0.1-go$GO_VERSION.linux-$arch
mkdir -p "$CACHE"
tmp=$(mktemp -d "$CACHE/go.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "go-toolchain.sh: fetching Go $GO_VERSION (golang.org/toolchain@$mod)" \
  "from the Go module proxy" >&2
if ! curl -fsSL --retry 3 -o "$tmp/go.zip" "$proxy/golang.org/toolchain/@v/$mod.zip"; then
  echo "go-toolchain.sh: download of golang.org/toolchain@$mod failed" >&2
  exit 1
fi
got=$(sha256sum "$tmp/go.zip" | cut -d' ' -f1)
if [ "$got" != "$want" ]; then
  echo "go-toolchain.sh: golang.org/toolchain@$mod has SHA-256 $got, expected $want" >&2
  exit 1
fi
if command -v unzip >/dev/null 2>&1; then
  unzip -q "$tmp/go.zip" -d "$tmp/x"
else
  python3 -c 'import sys,zipfile,os
z=zipfile.ZipFile(sys.argv[1])
for i in z.infolist():
    p=z.extract(i,sys.argv[2]); m=(i.external_attr>>16)&0o777
    if m: os.chmod(p,m)' "$tmp/go.zip" "$tmp/x"
fi
rm -rf "$CACHE/go$GO_VERSION"
mv "$tmp/x/golang.org/toolchain@$mod" "$CACHE/go$GO_VERSION"
g="$CACHE/go$GO_VERSION/bin/go"
if ! version_ok "$g"; then
  echo "go-toolchain.sh: $g does not run" >&2
  exit 1
fi
echo "$g"
