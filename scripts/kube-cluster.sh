#!/bin/bash
# kube-cluster.sh — a real Kubernetes control plane for ramp's tests, as plain processes on
# 127.0.0.1 (docs/platforms/kubernetes.md, "Test cluster").
#
#   kube-cluster.sh build        build etcd, kube-apiserver, kube-controller-manager,
#                                kube-scheduler, kubectl and kwok once per version set; prints the
#                                bin directory. Reuses the cached build when present.
#   kube-cluster.sh bin          prints the bin directory if the build is cached (exit 1 if not)
#   kube-cluster.sh start DIR    generates a PKI in DIR, starts the cluster on ports chosen now,
#                                waits until /readyz answers and a kwok Node is Ready; writes
#                                DIR/kubeconfig, DIR/env and DIR/pids; logs in DIR/*.log
#   kube-cluster.sh stop DIR     stops the processes recorded in DIR/pids (TERM, then KILL)
#   kube-cluster.sh restart-apiserver DIR
#                                kills kube-apiserver (SIGKILL) and starts it again on its port
#   kube-cluster.sh env DIR      prints `export KUBECONFIG=… PATH=…` for a started DIR
#
# Options of `start` (environment; for bench/kubernetes): RAMP_KUBE_AUDIT_LOG=FILE makes
# kube-apiserver write its audit log there (JSON lines, Metadata level, every request, stages
# ResponseStarted and ResponseComplete, never rotated); RAMP_KUBE_NODE_PODS=N gives kwok-node-0
# room for N Pods (default 110, the kubelet's); RAMP_KUBE_CONTROL_PLANE_QPS=N gives the
# controller-manager and the scheduler N requests/s, burst 2N (default theirs: 20/30 and 50/100),
# for benches of thousands of Pods.
#
# The programs come from the Go module proxy through the wrapper modules in tools/kube/ (k8s:
# k8s.io/kubernetes with its staging modules pinned to the published v0.x.y; etcd; kwok), built
# by an ordinary `go build` into ${RAMP_KUBE_CACHE:-${XDG_CACHE_HOME:-~/.cache}/ramp/kube}/
# <key>/bin, key = hash of the wrapper modules' go.mod/go.sum, the Go version and this recipe's
# revision. Go module and build caches live beside it (go/mod, go/build). The Go toolchain comes
# from scripts/go-toolchain.sh. Builds run under `nice -n 19` with `go build -p 2`
# (RAMP_KUBE_GO_P overrides) so they leave CPU to other builds.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS=$ROOT/tools/kube
CACHE=${RAMP_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ramp/kube}
# Bump when the build recipe (flags, binaries) changes so cached builds are not reused.
RECIPE=1
BINARIES="etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok"
# kwok's own Stage configurations (from its module, sigs.k8s.io/kwok@<version>/kustomize/stage):
# what kwokctl loads by default. Nodes become Ready and renew their Lease; scheduled Pods become
# Running and Ready; Job Pods complete; deleted Pods go away.
KWOK_STAGES="node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml
  pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml"

die() {
  echo "kube-cluster.sh: $*" >&2
  exit 1
}

# mod_version DIR MODULE: the version of MODULE required by the wrapper module in DIR.
mod_version() {
  awk -v m="$2" '($1 == m || ($1 == "require" && $2 == m)) { print ($1 == m ? $2 : $3); exit }' \
    "$1/go.mod"
}

# shellcheck source=go-env.sh
. "$ROOT/scripts/go-env.sh"

cache_key() {
  {
    echo "recipe $RECIPE"
    "$GO" env GOVERSION GOOS GOARCH
    local m
    for m in k8s etcd kwok; do
      grep -v '^//' "$TOOLS/$m/go.mod" # comments do not change the build
      cat "$TOOLS/$m/go.sum"
    done
  } | sha256sum | cut -c1-16
}

bin_dir() {
  go_env
  echo "$CACHE/$(cache_key)/bin"
}

have_all() {
  local b
  for b in $BINARIES; do [ -x "$1/$b" ] || return 1; done
  [ -s "$1/kwok-stages.yaml" ]
}

# go_build DIR OUT PKG [LDFLAGS]: one binary, timed (wall, user, sys) into the build log.
go_build() {
  local dir=$1 out=$2 pkg=$3 ldf=${4:-} t0 t1
  echo "building $(basename "$out") ($pkg)"
  t0=$(date +%s)
  local TIMEFORMAT="$(basename "$out"): wall %R s, user %U s, sys %S s"
  time (cd "$dir" && nice -n 19 "$GO" build -p "${RAMP_KUBE_GO_P:-2}" -trimpath \
    -ldflags "-s -w $ldf" -o "$out" "$pkg") || return 1
  t1=$(date +%s)
  echo "$(basename "$out") built in $((t1 - t0)) s"
}

cmd_build() {
  go_env
  local key bin k8s minor ldf
  key=$(cache_key)
  bin=$CACHE/$key/bin
  mkdir -p "$CACHE/$key"
  exec 9>"$CACHE/$key/lock"
  flock 9
  if have_all "$bin"; then
    echo "$bin"
    return 0
  fi
  k8s=$(mod_version "$TOOLS/k8s" k8s.io/kubernetes)
  [ -n "$k8s" ] || die "tools/kube/k8s/go.mod requires no k8s.io/kubernetes"
  minor=$(echo "$k8s" | cut -d. -f2)
  ldf="-X k8s.io/component-base/version.gitVersion=$k8s -X k8s.io/component-base/version.gitMajor=1"
  ldf="$ldf -X k8s.io/component-base/version.gitMinor=$minor"
  ldf="$ldf -X k8s.io/component-base/version.gitTreeState=clean"
  local log=$CACHE/$key/build.log start
  start=$(date +%s)
  {
    echo "kube-cluster.sh build: key $key, k8s.io/kubernetes $k8s," \
      "etcd $(mod_version "$TOOLS/etcd" go.etcd.io/etcd/server/v3)," \
      "kwok $(mod_version "$TOOLS/kwok" sigs.k8s.io/kwok), $("$GO" env GOVERSION)," \
      "started $(date -u +%FT%TZ)"
    local t0=$(date +%s)
    # errexit does not apply inside this group (its pipeline is followed by ||): every step
    # stops the build explicitly.
    (cd "$TOOLS/k8s" && "$GO" mod download) && (cd "$TOOLS/etcd" && "$GO" mod download) &&
      (cd "$TOOLS/kwok" && "$GO" mod download) || exit 1
    echo "module download: $(($(date +%s) - t0)) s"
    mkdir -p "$bin.tmp"
    go_build "$TOOLS/etcd" "$bin.tmp/etcd" go.etcd.io/etcd/server/v3 || exit 1
    go_build "$TOOLS/k8s" "$bin.tmp/kube-apiserver" \
      k8s.io/kubernetes/cmd/kube-apiserver "$ldf" || exit 1
    go_build "$TOOLS/k8s" "$bin.tmp/kube-controller-manager" \
      k8s.io/kubernetes/cmd/kube-controller-manager "$ldf" || exit 1
    go_build "$TOOLS/k8s" "$bin.tmp/kube-scheduler" \
      k8s.io/kubernetes/cmd/kube-scheduler "$ldf" || exit 1
    go_build "$TOOLS/k8s" "$bin.tmp/kubectl" k8s.io/kubernetes/cmd/kubectl "$ldf" || exit 1
    go_build "$TOOLS/kwok" "$bin.tmp/kwok" sigs.k8s.io/kwok/cmd/kwok || exit 1
    local kwok_dir f
    kwok_dir=$(cd "$TOOLS/kwok" && "$GO" list -m -f '{{.Dir}}' sigs.k8s.io/kwok) || exit 1
    for f in $KWOK_STAGES; do
      echo "---"
      cat "$kwok_dir/kustomize/stage/$f" || exit 1
    done >"$bin.tmp/kwok-stages.yaml"
    echo "total: $(($(date +%s) - start)) s"
  } 2>&1 | tee "$log" >&2 || die "build failed (log: $log)"
  have_all "$bin.tmp" || die "build incomplete (log: $log)"
  rm -rf "$bin"
  mv "$bin.tmp" "$bin"
  echo "$bin"
}

# free_ports N: N distinct TCP ports free on 127.0.0.1 now (bound together, then released).
free_ports() {
  python3 -c 'import socket,sys
s=[socket.socket() for _ in range(int(sys.argv[1]))]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))' "$1"
}

# pki DIR: a CA, the apiserver's serving certificate (127.0.0.1 and the in-cluster names), the
# service-account key pair and client certificates for the admin (system:masters), the
# controller-manager and the scheduler (their built-in RBAC users). ECDSA P-256, valid 30 days.
pki() {
  local p=$1/pki
  mkdir -p "$p"
  (
    cd "$p"
    key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
    key ca.key
    openssl req -x509 -new -key ca.key -subj /CN=ramp-test-ca -days 30 -out ca.crt \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
    # cert NAME SUBJECT EXTENSIONS: NAME.key and NAME.crt signed by the CA.
    cert() {
      key "$1.key"
      openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
      printf '%s\n' "$3" >"$1.ext"
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 \
        -extfile "$1.ext" -out "$1.crt" 2>/dev/null
      rm -f "$1.csr" "$1.ext"
    }
    local client='keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth'
    local san=IP:127.0.0.1,DNS:localhost,IP:10.96.0.1,DNS:kubernetes,DNS:kubernetes.default
    san=$san,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
    cert apiserver /CN=kube-apiserver "keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=$san"
    cert admin "/O=system:masters/CN=ramp-admin" "$client"
    cert controller-manager /CN=system:kube-controller-manager "$client"
    cert scheduler /CN=system:kube-scheduler "$client"
    key sa.key
    openssl pkey -in sa.key -pubout -out sa.pub
    chmod 600 ./*.key
  )
}

# kubeconfig FILE SERVER USER: a kubeconfig for the client certificate pki/USER.{crt,key}.
kubeconfig() {
  local p=$(dirname "$1")/pki
  cat >"$1" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: ramp-test
  cluster:
    server: $2
    certificate-authority: $p/ca.crt
users:
- name: $3
  user:
    client-certificate: $p/$3.crt
    client-key: $p/$3.key
contexts:
- name: ramp-test
  context: {cluster: ramp-test, user: $3}
current-context: ramp-test
KUBECONFIG
}

# launch DIR NAME BIN ARGS...: starts BIN in its own session, output in DIR/NAME.log, and
# records "NAME PID" in DIR/pids.
launch() {
  local dir=$1 name=$2
  shift 2
  setsid "$@" >"$dir/$name.log" 2>&1 </dev/null &
  echo "$name $!" >>"$dir/pids"
}

# alive DIR NAME: whether the process recorded for NAME still runs.
alive() {
  local pid
  pid=$(awk -v n="$2" '$1 == n { print $2 }' "$1/pids")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# wait_for DIR NAME SECONDS CMD...: polls CMD every 0.2 s until it succeeds; fails when NAME's
# process exits or SECONDS pass, showing the end of NAME's log.
wait_for() {
  local dir=$1 name=$2 secs=$3 deadline
  shift 3
  deadline=$(($(date +%s) + secs))
  until "$@" >/dev/null 2>&1; do
    if ! alive "$dir" "$name"; then
      tail -n 20 "$dir/$name.log" >&2
      die "$name exited during start-up (log: $dir/$name.log)"
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      tail -n 20 "$dir/$name.log" >&2
      die "$name not ready after $secs s (log: $dir/$name.log)"
    fi
    sleep 0.2
  done
}

healthy() { # URL: a TLS health endpoint answers "ok" (serving certificates not checked)
  [ "$(curl -sk --max-time 2 "$1")" = ok ]
}

# apiserver_ready DIR SERVER: waits (up to 120 s) until the API server answers /readyz.
apiserver_ready() {
  local p=$1/pki
  wait_for "$1" kube-apiserver 120 curl -sf --max-time 2 --cacert "$p/ca.crt" \
    --cert "$p/admin.crt" --key "$p/admin.key" "$2/readyz"
}

cmd_start() {
  local dir=${1:?usage: kube-cluster.sh start DIR} bin t0
  t0=$(date +%s%N)
  bin=$(cmd_build) || die "the cluster's programs could not be built"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ ! -s "$dir/pids" ] || die "$dir/pids exists: stop that cluster first (stop $dir)"
  : >"$dir/pids"
  # Whatever fails from here on (die exits) stops what was started.
  trap 'cmd_stop "$dir" >/dev/null 2>&1 || true' EXIT
  pki "$dir"
  local etcd_port etcd_peer api_port kcm_port sched_port kwok_port
  read -r etcd_port etcd_peer api_port kcm_port sched_port kwok_port <<<"$(free_ports 6)"
  local server=https://127.0.0.1:$api_port p=$dir/pki
  kubeconfig "$dir/kubeconfig" "$server" admin
  kubeconfig "$dir/controller-manager.kubeconfig" "$server" controller-manager
  kubeconfig "$dir/scheduler.kubeconfig" "$server" scheduler

  launch "$dir" etcd "$bin/etcd" --name=ramp --data-dir="$dir/etcd" --unsafe-no-fsync \
    --listen-client-urls="http://127.0.0.1:$etcd_port" \
    --advertise-client-urls="http://127.0.0.1:$etcd_port" \
    --listen-peer-urls="http://127.0.0.1:$etcd_peer" \
    --initial-advertise-peer-urls="http://127.0.0.1:$etcd_peer" \
    --initial-cluster="ramp=http://127.0.0.1:$etcd_peer" --auto-compaction-retention=1
  wait_for "$dir" etcd 60 curl -sf --max-time 2 "http://127.0.0.1:$etcd_port/health"

  local apiserver=("$bin/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$etcd_port" --bind-address=127.0.0.1 \
    --advertise-address=127.0.0.1 --secure-port="$api_port" \
    --tls-cert-file="$p/apiserver.crt" --tls-private-key-file="$p/apiserver.key" \
    --client-ca-file="$p/ca.crt" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$p/sa.pub" --service-account-signing-key-file="$p/sa.key" \
    --service-cluster-ip-range=10.96.0.0/16 --authorization-mode=Node,RBAC \
    --endpoint-reconciler-type=none --allow-privileged=true --cert-dir="$dir/apiserver-certs")
  if [ -n "${RAMP_KUBE_AUDIT_LOG:-}" ]; then
    # One event per stage but the first (RequestReceived): a request is logged when it
    # completes (and a watch also when it starts); events of one request share an auditID.
    cat >"$dir/audit-policy.yaml" <<'POLICY'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
POLICY
    apiserver+=(--audit-policy-file="$dir/audit-policy.yaml" \
      --audit-log-path="$RAMP_KUBE_AUDIT_LOG" --audit-log-format=json --audit-log-maxsize=0)
  fi
  # Kept for restart-apiserver.
  printf '%q ' "${apiserver[@]}" >"$dir/kube-apiserver.cmd"
  launch "$dir" kube-apiserver "${apiserver[@]}"
  apiserver_ready "$dir" "$server"

  local qps=()
  if [[ -n ${RAMP_KUBE_CONTROL_PLANE_QPS:-} ]]; then
    [[ $RAMP_KUBE_CONTROL_PLANE_QPS =~ ^[0-9]+$ ]] ||
      die "RAMP_KUBE_CONTROL_PLANE_QPS must be a number, not '$RAMP_KUBE_CONTROL_PLANE_QPS'"
    qps=(--kube-api-qps="$RAMP_KUBE_CONTROL_PLANE_QPS"
      --kube-api-burst="$((2 * RAMP_KUBE_CONTROL_PLANE_QPS))")
  fi
  launch "$dir" kube-controller-manager "$bin/kube-controller-manager" \
    --kubeconfig="$dir/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$dir/controller-manager.kubeconfig" \
    --authorization-kubeconfig="$dir/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$kcm_port" --cert-dir="$dir/controller-manager-certs" \
    --root-ca-file="$p/ca.crt" --service-account-private-key-file="$p/sa.key" \
    --cluster-signing-cert-file="$p/ca.crt" --cluster-signing-key-file="$p/ca.key" \
    --use-service-account-credentials=true --leader-elect=false "${qps[@]}"
  launch "$dir" kube-scheduler "$bin/kube-scheduler" --kubeconfig="$dir/scheduler.kubeconfig" \
    --authentication-kubeconfig="$dir/scheduler.kubeconfig" \
    --authorization-kubeconfig="$dir/scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$sched_port" --cert-dir="$dir/scheduler-certs" \
    --leader-elect=false "${qps[@]}"
  # kwok plays the kubelet of the Nodes annotated kwok.x-k8s.io/node=fake.
  launch "$dir" kwok "$bin/kwok" --kubeconfig="$dir/kubeconfig" --config="$bin/kwok-stages.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --cidr=10.244.0.0/16 --node-ip=127.0.0.1 --node-lease-duration-seconds=40 \
    --server-address="127.0.0.1:$kwok_port"
  wait_for "$dir" kube-controller-manager 60 healthy "https://127.0.0.1:$kcm_port/healthz"
  wait_for "$dir" kube-scheduler 60 healthy "https://127.0.0.1:$sched_port/healthz"
  wait_for "$dir" kwok 60 curl -sf --max-time 2 "http://127.0.0.1:$kwok_port/healthz"

  local kubectl=("$bin/kubectl" --kubeconfig="$dir/kubeconfig") pods=${RAMP_KUBE_NODE_PODS:-110}
  [[ $pods =~ ^[0-9]+$ ]] || die "RAMP_KUBE_NODE_PODS must be a number of Pods, not '$pods'"
  "${kubectl[@]}" apply -f - >"$dir/node.log" <<NODE
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-0
  annotations: {node.alpha.kubernetes.io/ttl: "0", kwok.x-k8s.io/node: fake}
  labels:
    type: kwok
    kubernetes.io/arch: amd64
    kubernetes.io/os: linux
    kubernetes.io/hostname: kwok-node-0
status:
  allocatable: {cpu: "32", memory: 256Gi, pods: "$pods"}
  capacity: {cpu: "32", memory: 256Gi, pods: "$pods"}
NODE
  wait_for "$dir" kwok 60 "${kubectl[@]}" wait --for=condition=Ready node/kwok-node-0 --timeout=2s
  # Pods need the namespace's default ServiceAccount, which the controller-manager creates.
  wait_for "$dir" kube-controller-manager 60 "${kubectl[@]}" get serviceaccount default
  cat >"$dir/env" <<ENV
export KUBECONFIG=$dir/kubeconfig
export PATH=$bin:\$PATH
export RAMP_KUBE_APISERVER=$server
export RAMP_KUBE_BIN=$bin
ENV
  trap - EXIT
  local ms=$((($(date +%s%N) - t0) / 1000000))
  echo "kube-cluster.sh: cluster ready in $((ms / 1000)).$(printf %03d $((ms % 1000))) s: $server" \
    "(kubeconfig $dir/kubeconfig)" >&2
}

# stop_pid PID BIN: stops PID if it still runs BIN (TERM, up to 15 s, then KILL).
stop_pid() {
  local pid=$1 exe i
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 0
  [ "$exe" = "$(readlink -f "$2")" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 150); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

cmd_stop() {
  local dir=${1:?usage: kube-cluster.sh stop DIR} name pid bin
  [ -f "$dir/pids" ] || return 0
  bin=$(sed -n 's/^export RAMP_KUBE_BIN=//p' "$dir/env" 2>/dev/null || true)
  [ -n "$bin" ] || bin=$(bin_dir)
  # Reverse start order: kwok and the controllers first, etcd last.
  tac "$dir/pids" | while read -r name pid; do
    stop_pid "$pid" "$bin/$name"
  done
  rm -f "$dir/pids"
}

# restart-apiserver DIR: kills the cluster's kube-apiserver (SIGKILL: a crash, its connections
# cut) and starts it again with the same arguments and port; waits until /readyz answers.
cmd_restart_apiserver() {
  local dir=${1:?usage: kube-cluster.sh restart-apiserver DIR} pid server t0 ms
  t0=$(date +%s%N)
  [ -f "$dir/kube-apiserver.cmd" ] || die "$dir was not started by this script (no kube-apiserver.cmd)"
  server=$(sed -n 's/^export RAMP_KUBE_APISERVER=//p' "$dir/env")
  pid=$(awk '$1 == "kube-apiserver" { print $2 }' "$dir/pids")
  if [ -n "$pid" ]; then
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  fi
  awk '$1 != "kube-apiserver"' "$dir/pids" >"$dir/pids.tmp" && mv "$dir/pids.tmp" "$dir/pids"
  eval "launch \"\$dir\" kube-apiserver $(cat "$dir/kube-apiserver.cmd")"
  apiserver_ready "$dir" "$server"
  ms=$((($(date +%s%N) - t0) / 1000000))
  echo "kube-cluster.sh: kube-apiserver restarted in $((ms / 1000)).$(printf %03d $((ms % 1000))) s" >&2
}

case ${1:-} in
  build) cmd_build ;;
  start) cmd_start "${2:-}" ;;
  stop) cmd_stop "${2:-}" ;;
  restart-apiserver) cmd_restart_apiserver "${2:-}" ;;
  env) cat "${2:?usage: kube-cluster.sh env DIR}/env" ;;
  bin)
    b=$(bin_dir)
    have_all "$b" || exit 1
    echo "$b"
    ;;
  *)
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
