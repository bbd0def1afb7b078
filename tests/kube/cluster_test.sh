#!/bin/bash
# cluster_test.sh — the Kubernetes test cluster (scripts/kube-cluster.sh) works end to end:
# starts it, applies a Deployment and waits until its ReplicaSet's Pods are scheduled on the kwok
# Node and Running and Ready, applies ramp's Rollout CRD and a Rollout with server-side apply and
# exercises its status and scale subresources, then stops the cluster and checks that every
# process is gone.
#
# Exit 77 (ctest: skipped) with the reason when the cluster's programs are not built
# (`make test` builds them first with `make kube-build`).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/tests/kube
CLUSTER=$ROOT/scripts/kube-cluster.sh

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

if ! bin=$("$CLUSTER" bin); then
  echo "SKIPPED: the test cluster's programs are not built (run make kube-build)"
  exit 77
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/ramp-kube-test.XXXXXX")
cleanup() {
  "$CLUSTER" stop "$dir" || true
  if [ "${KEEP:-0}" = 1 ]; then echo "cluster dir kept: $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT
"$CLUSTER" start "$dir"
# shellcheck disable=SC1091
source "$dir/env"
k() { kubectl --request-timeout=30s "$@"; }

echo "== processes (RSS after start)"
while read -r name pid; do
  echo "$name pid $pid $(awk '/^VmRSS/ { print $2, $3 }' "/proc/$pid/status")"
done <"$dir/pids"
k version

echo "== a Deployment's Pods become Running and Ready on the kwok Node"
k apply -f - <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: registry.invalid/web:1}]
YAML
k rollout status deployment/web --timeout=120s
k wait --for=condition=Ready pod -l app=web --timeout=60s
running=$(k get pods -l app=web --field-selector=status.phase=Running,spec.nodeName=kwok-node-0 \
  -o name | wc -l)
[ "$running" = 3 ] || fail "expected 3 Running Pods on kwok-node-0, got $running"
ready=$(k get replicaset -l app=web -o jsonpath='{.items[0].status.readyReplicas}')
[ "$ready" = 3 ] || fail "the ReplicaSet reports readyReplicas=$ready, expected 3"

echo "== the garbage collector deletes the Pods with their Deployment"
k delete deployment web --wait=true --timeout=60s
for i in $(seq 300); do
  [ -n "$(k get pods -l app=web -o name)" ] || break
  [ "$i" -lt 300 ] || fail "Pods left 60 s after their Deployment's deletion: $(k get pods)"
  sleep 0.2
done

echo "== Rollout CRD and a Rollout with server-side apply"
k apply --server-side --field-manager=ramp-test -f "$HERE/testdata/rollout-crd.yaml"
k wait --for=condition=Established crd/rollouts.argoproj.io --timeout=60s
# Discovery can lag behind Established: retry the first apply briefly.
rollout='apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: demo, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {app: demo}}
  template:
    metadata: {labels: {app: demo}}
    spec: {containers: [{name: demo, image: registry.invalid/demo:1}]}
  strategy: {canary: {steps: [{setWeight: 20}, {pause: {}}]}}'
for i in $(seq 50); do
  if echo "$rollout" | k apply --server-side --field-manager=ramp-test -f - 2>"$dir/apply.err"; then
    break
  fi
  [ "$i" -lt 50 ] || fail "server-side apply of the Rollout: $(cat "$dir/apply.err")"
  sleep 0.2
done
[ "$(k get rollout demo -o jsonpath='{.spec.replicas}')" = 2 ] || fail "spec.replicas is not 2"
managers=$(k get rollout demo --show-managed-fields \
  -o jsonpath='{.metadata.managedFields[*].manager}')
[[ " $managers " == *" ramp-test "* ]] || fail "managedFields lack ramp-test: $managers"

echo "== status subresource: /status takes status; the main resource ignores it"
k patch rollout demo --subresource=status --type=merge \
  -p '{"status":{"observedGeneration":"1","HPAReplicas":2,"selector":"app=demo",
       "phase":"Progressing"}}'
[ "$(k get rollout demo -o jsonpath='{.status.phase}')" = Progressing ] || fail "status not written"
k patch rollout demo --type=merge -p '{"status":{"phase":"Healthy"}}'
[ "$(k get rollout demo -o jsonpath='{.status.phase}')" = Progressing ] ||
  fail "a write to the main resource changed .status"
if k patch rollout demo --type=merge -p '{"spec":{"selector":{"matchLabels":{"app":"x"}}}}' \
  2>"$dir/selector.err"; then
  fail "the selector changed although the CRD declares it immutable"
fi
grep -q "immutable" "$dir/selector.err" || fail "unexpected error: $(cat "$dir/selector.err")"

echo "== scale subresource: spec.replicas, status.HPAReplicas, status.selector"
k scale rollout demo --replicas=5
[ "$(k get rollout demo -o jsonpath='{.spec.replicas}')" = 5 ] || fail "scale did not set spec"
scale=$(k get --raw /apis/argoproj.io/v1alpha1/namespaces/default/rollouts/demo/scale)
[[ $scale == *'"replicas":2'* && $scale == *'"selector":"app=demo"'* ]] ||
  fail "the scale subresource reads $scale"

echo "== stop"
pids=$(awk '{ print $2 }' "$dir/pids")
"$CLUSTER" stop "$dir"
for pid in $pids; do
  if kill -0 "$pid" 2>/dev/null; then fail "pid $pid still runs after stop"; fi
done
echo "PASS"
