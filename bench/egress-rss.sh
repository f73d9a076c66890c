#!/usr/bin/env bash
# The resident memory of `coil egress` tracking N client pods (default 100), on a kernel
# without FoU: the gateway runs in a throw-away netns whose FoU and NAT server were "already
# initialised" (links named fou-dummy and egress-dummy: veths, as there is no dummy module),
# against the test API server in the same netns, with N annotated pods that have no IP yet,
# so every pod is tracked and counted but no tunnel is made (tunnels are kernel memory, not
# the process's). Prints the client count the gateway reports and its VmRSS/VmHWM.
# Usage (root): bench/egress-rss.sh [N] [path to coil]
set -euo pipefail
N=${1:-100}
COIL=${2:-build/cmd/coil}
REPO=$(cd "$(dirname "$0")/.." && pwd)
NS=egress-rss-$$
TMP=$(mktemp -d)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add fou-dummy type veth peer name egress-dummy
in_ns() { ip netns exec "$NS" "$@"; }

in_ns /usr/bin/python3 "$REPO/test/apiserver/run" --port 0 --port-file "$TMP/port" \
	>"$TMP/apiserver.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$TMP/port" ] && break; sleep 0.1; done
PORT=$(cat "$TMP/port")
API=http://127.0.0.1:$PORT
cat >"$TMP/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters: [{name: t, cluster: {server: "$API"}}]
users: [{name: t, user: {}}]
contexts: [{name: t, context: {cluster: t, user: t}}]
current-context: t
KC
for i in $(seq "$N"); do
	printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"client-%d","namespace":"default","annotations":{"egress.coil.cybozu.com/internet":"egress2"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}' "$i" |
		in_ns curl -sf -o /dev/null -H 'Content-Type: application/json' --data-binary @- \
			"$API/api/v1/namespaces/default/pods"
done
METRICS=127.0.0.1:18080
KUBECONFIG=$TMP/kubeconfig COIL_POD_NAMESPACE=internet COIL_EGRESS_NAME=egress2 \
	COIL_POD_ADDRESSES=10.64.0.5 HOSTNAME=gw-0 \
	ip netns exec "$NS" "$COIL" egress --metrics-addr "$METRICS" --health-addr 127.0.0.1:18081 \
	>"$TMP/egress.log" 2>&1 &
PIDS+=($!)
EPID=$!
count=""
for _ in $(seq 300); do
	count=$(in_ns curl -sf "http://$METRICS/metrics" 2>/dev/null |
		awk '/^coil_egress_client_pod_count/ {print $2}') || true
	[ "$count" = "$N" ] && break
	sleep 0.1
done
if [ "$count" != "$N" ]; then
	echo "the gateway reports ${count:-no} clients, not $N" >&2
	cat "$TMP/egress.log" >&2
	exit 1
fi
sleep 1
echo "clients: $count"
echo "process: $(cat /proc/$EPID/comm) pid $EPID"
grep -E '^(VmRSS|VmHWM)' "/proc/$EPID/status"
