#!/bin/sh
# Installs every Debian package that ramp's build, tests and demo need. Idempotent: when every
# package is already installed it does nothing (no network). Service starts triggered by package
# post-install scripts are blocked with a policy-rc.d, as ../shared/reference/platform-notes.md §8
# recommends; ramp's tests start their own servers on loopback ports and stop them by pid.
set -eu

PACKAGES="
  build-essential cmake ninja-build ccache pkg-config clang-16 libclang-rt-16-dev clang-format
  clang-tidy-16
  nlohmann-json3-dev libyaml-dev libcurl4-openssl-dev libcpp-httplib-dev libboost-dev
  libboost-math-dev libsqlite3-dev libcli11-dev libspdlog-dev libfmt-dev libssl-dev zlib1g-dev
  libjemalloc-dev
  libgtest-dev libgmock-dev libbenchmark-dev libgit2-dev libssh2-1-dev libhowardhinnant-date-dev
  git haproxy socat nginx prometheus wrk curl ca-certificates python3
  chromium fonts-dejavu-core iproute2 openssl docker-registry fcgiwrap openssh-server
"
# fcgiwrap and openssh-server: the Git servers of the GitOps tests (tests/gitops/git_servers.h):
# git http-backend behind nginx over https, and sshd; started on loopback ports, never as
# services. libssh2-1-dev: src/gitops checks ssh host keys against known_hosts with libssh2.
# docker-registry: distribution 2.8.2, the OCI registry src/supply's tests push to and verify
# from (tests/supply). chromium and fonts-dejavu-core: the dashboard's browser test (tests/web),
# headless (iproute2's `ss -K` cuts its watch streams to test the resume). It runs
# playwright-core under Node.js: machines that already have a `node` (v18+) keep theirs, others
# get Debian's.
if ! command -v node >/dev/null 2>&1; then
  PACKAGES="$PACKAGES nodejs npm"
fi

# The Kubernetes test cluster (scripts/kube-cluster.sh) is built with Go >= 1.26; Debian 12's
# golang-go is 1.19, so go-toolchain.sh installs the pinned toolchain from the Go module proxy
# into the cache when no recent `go` is found (nothing when one is). A failure only skips the
# kube tests (they do not gate `make test` yet: docs/platforms/kubernetes.md, Status).
go_toolchain() {
  if ! "$(dirname "$0")/go-toolchain.sh" >/dev/null; then
    echo "bootstrap: no Go toolchain: the Kubernetes tests (label kube) will be skipped" >&2
  fi
}

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing="$missing $p"
  fi
done
if [ -z "$missing" ]; then
  go_toolchain
  exit 0
fi

echo "bootstrap: installing:$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
created_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod 755 /usr/sbin/policy-rc.d
  created_policy=1
fi
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
if [ "$created_policy" = 1 ]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi
if [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now haproxy nginx prometheus docker-registry ssh fcgiwrap.socket \
    2>/dev/null || true
fi
go_toolchain
