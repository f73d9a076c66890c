#!/bin/bash
# Drives the test API server (test/apiserver/run) with Debian's kubectl 1.20, a client no one
# here wrote: apply the CRDs of deploy/crd, then create, list, get, patch, watch, scale and
# delete coil objects, including a delete held by a finalizer until a patch removes it.
#
# Usage: test/kubectl/test_kubectl.sh   (exit 0 pass, 1 fail, also when kubectl is unavailable)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

if ! kubectl_bin=$("$here/setup-kubectl.sh"); then
	echo "FAIL: Debian's kubectl (kubernetes-client) could not be fetched" >&2
	exit 1
fi

tmp=$(mktemp -d /tmp/test-kubectl.XXXXXX)
server_pid=
cleanup() {
	if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

"$repo/test/apiserver/run" --port 0 --port-file "$tmp/port" >"$tmp/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
[ -s "$tmp/port" ] || { cat "$tmp/server.log"; echo "FAIL: server did not start"; exit 1; }
server=http://127.0.0.1:$(cat "$tmp/port")

# A private HOME: kubectl caches discovery under ~/.kube and must not see other servers'.
export HOME=$tmp/home
mkdir -p "$HOME"
k() { "$kubectl_bin" --server "$server" --request-timeout 20s "$@"; }

step() { echo "--- $*"; }
fail() { echo "FAIL: $*" >&2; echo "server log:" >&2; tail -20 "$tmp/server.log" >&2; exit 1; }
expect_eq() { [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"; }

step "apply -f deploy/crd/"
k apply -f "$repo/deploy/crd/"
k wait --for condition=established --timeout 10s \
	crd/addresspools.coil.cybozu.com crd/addressblocks.coil.cybozu.com \
	crd/blockrequests.coil.cybozu.com crd/egresses.coil.cybozu.com
expect_eq "$(k get crd -o name | sort | tr '\n' ' ')" \
	"customresourcedefinition.apiextensions.k8s.io/addressblocks.coil.cybozu.com customresourcedefinition.apiextensions.k8s.io/addresspools.coil.cybozu.com customresourcedefinition.apiextensions.k8s.io/blockrequests.coil.cybozu.com customresourcedefinition.apiextensions.k8s.io/egresses.coil.cybozu.com " \
	"CRDs"
step "apply -k deploy/crd (kustomization)"
out=$(k apply -k "$repo/deploy/crd")
grep -q unchanged <<<"$out" || fail "apply -k: $out"

step "create an AddressPool"
cat >"$tmp/pool.yaml" <<'YAML'
apiVersion: coil.cybozu.com/v2
kind: AddressPool
metadata:
  name: default
  labels:
    stage: one
spec:
  subnets:
  - ipv4: 10.2.0.0/16
    ipv6: fd01:203:405:607::/112
YAML
k apply -f "$tmp/pool.yaml"
k get addresspools
expect_eq "$(k get addresspools -o name)" "addresspool.coil.cybozu.com/default" "list"
expect_eq "$(k get addresspool default -o jsonpath='{.spec.blockSizeBits}')" "5" "CRD default"
k get addresspool default -o json >"$tmp/pool.json"
/usr/bin/python3 - "$tmp/pool.json" <<'PY' || fail "get -o json"
import json, sys
p = json.load(open(sys.argv[1]))
assert p["kind"] == "AddressPool" and p["apiVersion"] == "coil.cybozu.com/v2", p
assert p["spec"]["subnets"][0]["ipv6"] == "fd01:203:405:607::/112", p
assert p["metadata"]["uid"] and p["metadata"]["resourceVersion"], p
PY

step "schema validation refuses a pool without subnets"
if k apply -f - >"$tmp/invalid.out" 2>&1 <<'YAML'; then
apiVersion: coil.cybozu.com/v2
kind: AddressPool
metadata:
  name: broken
spec:
  blockSizeBits: 3
YAML
	fail "invalid pool accepted"
fi
grep -q 'spec.subnets: Required value' "$tmp/invalid.out" || fail "422 message: $(cat "$tmp/invalid.out")"

step "watch, then patch (merge)"
k get addresspool default --watch -o jsonpath='{.metadata.labels.stage}{"\n"}' \
	>"$tmp/watch.out" 2>&1 &
watch_pid=$!
for _ in $(seq 100); do grep -q one "$tmp/watch.out" && break; sleep 0.05; done
k patch addresspool default --type merge -p '{"metadata":{"labels":{"stage":"two"}}}'
expect_eq "$(k get addresspool default -o jsonpath='{.metadata.labels.stage}')" "two" "patch"
for _ in $(seq 100); do grep -q two "$tmp/watch.out" && break; sleep 0.05; done
kill "$watch_pid" 2>/dev/null || true
wait "$watch_pid" 2>/dev/null || true
grep -q two "$tmp/watch.out" || fail "watch did not see the patch: $(cat "$tmp/watch.out")"

step "AddressBlocks and label selectors"
for i in 0 1 2; do
	k create -f - <<YAML
apiVersion: coil.cybozu.com/v2
kind: AddressBlock
metadata:
  name: default-$i
  labels:
    coil.cybozu.com/pool: default
    coil.cybozu.com/node: node$((i % 2))
index: $i
ipv4: 10.2.0.$((i * 32))/27
YAML
done
expect_eq "$(k get addressblocks -l coil.cybozu.com/node=node0 -o name | tr '\n' ' ')" \
	"addressblock.coil.cybozu.com/default-0 addressblock.coil.cybozu.com/default-2 " "selector"
k delete addressblocks -l coil.cybozu.com/pool=default
expect_eq "$(k get addressblocks -o name)" "" "deletecollection"

step "Egress: defaults and the scale subresource"
k create -f - <<'YAML'
apiVersion: coil.cybozu.com/v2
kind: Egress
metadata:
  name: egress
  namespace: default
spec:
  destinations: ["0.0.0.0/0"]
YAML
expect_eq "$(k get egress egress -o jsonpath='{.spec.replicas} {.spec.sessionAffinity}')" \
	"1 ClientIP" "egress defaults"
k scale egress egress --replicas 3
expect_eq "$(k get egress egress -o jsonpath='{.spec.replicas}')" "3" "scale"

step "delete held by a finalizer"
k patch addresspool default --type merge -p '{"metadata":{"finalizers":["coil.cybozu.com"]}}'
k delete addresspool default --timeout 30s >"$tmp/delete.out" 2>&1 &
delete_pid=$!
for _ in $(seq 100); do
	ts=$(k get addresspool default -o jsonpath='{.metadata.deletionTimestamp}')
	[ -n "$ts" ] && break
	sleep 0.05
done
[ -n "$ts" ] || fail "no deletionTimestamp"
sleep 0.5
kill -0 "$delete_pid" 2>/dev/null || fail "kubectl delete returned while the finalizer was set"
expect_eq "$(k get addresspools -o name)" "addresspool.coil.cybozu.com/default" "held"
k patch addresspool default --type json -p '[{"op":"remove","path":"/metadata/finalizers"}]'
wait "$delete_pid" || fail "kubectl delete failed: $(cat "$tmp/delete.out")"
grep -q 'deleted' "$tmp/delete.out" || fail "delete output: $(cat "$tmp/delete.out")"
if k get addresspool default >"$tmp/get.out" 2>&1; then fail "pool still there"; fi
grep -q NotFound "$tmp/get.out" || fail "expected NotFound: $(cat "$tmp/get.out")"

step "built-in resources"
k create namespace coil-test
k -n coil-test create configmap cm --from-literal=a=b
expect_eq "$(k -n coil-test get configmap cm -o jsonpath='{.data.a}')" "b" "configmap"
k delete namespace coil-test --timeout 20s
if k get namespace coil-test >/dev/null 2>&1; then fail "namespace not deleted"; fi

echo "PASS: kubectl $("$kubectl_bin" version --client --short 2>/dev/null | sed 's/.*: //')"
