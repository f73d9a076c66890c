#!/bin/bash
# Proves a running test cluster (cluster.sh up) starts pods: one busybox pod
# pinned to each node must reach Running with an address from that node's
# pod range, answer a ping from its node, run a command through `kubectl exec`
# (API server -> kubelet over TLS, kubelet asking the API server to authorize
# it) and reach the API server through the kubernetes Service (kube-proxy),
# from the pod and from the node. The pods are deleted at the end.
#
#   test/realcluster/smoke.sh
#
# The image is the locally built busybox that every node imported at `up`
# (no registry is reachable), so imagePullPolicy is Never.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CLUSTER=$HERE/cluster.sh
IMAGE=localhost/coil-test/sandbox:1
NS=realcluster-smoke
SERVICE_IP=10.96.0.1
passed=0 failed=0

kc() { "$CLUSTER" kubectl "$@"; }
check() {
	local what=$1
	shift
	if "$@"; then
		echo "ok: $what"
		passed=$((passed + 1))
	else
		echo "FAIL: $what"
		failed=$((failed + 1))
	fi
}

pod_manifest() {
	cat <<EOF
apiVersion: v1
kind: Pod
metadata: {name: busybox-$1, namespace: $NS}
spec:
  nodeSelector: {kubernetes.io/hostname: $1}
  terminationGracePeriodSeconds: 1
  containers:
  - name: busybox
    image: $IMAGE
    imagePullPolicy: Never
    command: [/bin/busybox, sleep, "3600"]
EOF
}

# node_netns NODE: the netns of a node, from its recorded id.
node_netns() {
	echo "crc-$(cat "${COIL_REALCLUSTER_DIR:-/var/tmp/coil-realcluster}/id")-n${1#node-}"
}

ping_from() {
	nsenter --net="/run/netns/$(node_netns "$1")" -- ping -c1 -W2 "$2" >/dev/null
}

# service_healthz NODE: the API server's /healthz through the Service's
# ClusterIP from the node's own netns (kube-proxy's OUTPUT rules).
service_healthz() {
	[[ $(nsenter --net="/run/netns/$(node_netns "$1")" -- \
		curl -sk --max-time 5 "https://$SERVICE_IP/healthz") == ok ]]
}

in_range() { [[ $1 == 10.244.${2#node-}.* ]]; }

nodes=$(kc get nodes -o jsonpath='{.items[*].metadata.name}')
[[ -n $nodes ]] || { echo "no nodes"; exit 1; }
kc create namespace "$NS" >/dev/null
trap 'kc delete namespace "$NS" --wait=false >/dev/null 2>&1 || true' EXIT
# Pods are admitted only once the namespace's default service account exists.
for _ in $(seq 60); do
	kc -n "$NS" get serviceaccount default >/dev/null 2>&1 && break
	sleep 1
done
for node in $nodes; do
	pod_manifest "$node" | kc apply -f - >/dev/null
done
kc -n "$NS" wait --for=condition=Ready pod --all --timeout=180s >/dev/null || true
kc -n "$NS" get pods -o wide
for node in $nodes; do
	pod=busybox-$node
	phase=$(kc -n "$NS" get pod "$pod" -o jsonpath='{.status.phase}')
	ip=$(kc -n "$NS" get pod "$pod" -o jsonpath='{.status.podIP}')
	on=$(kc -n "$NS" get pod "$pod" -o jsonpath='{.spec.nodeName}')
	check "$pod Running on $node" test "$phase/$on" == "Running/$node"
	check "$pod address $ip from $node's range" in_range "$ip" "$node"
	check "$node pings $pod at $ip" ping_from "$node" "$ip"
	check "kubectl exec in $pod" kc -n "$NS" exec "$pod" -- /bin/busybox true
	check "$pod reaches the kubernetes Service (kube-proxy)" \
		kc -n "$NS" exec "$pod" -- /bin/busybox nc -w 3 "$SERVICE_IP" 443
	check "$node reaches the kubernetes Service (kube-proxy)" service_healthz "$node"
done
kc -n "$NS" delete pod --all --wait=true --timeout=60s >/dev/null
echo "smoke: $passed passed, $failed failed"
[[ $failed == 0 ]]
