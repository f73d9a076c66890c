# The rig of the coil egress process tests (sourced by test/egress/gateway_test.sh and
# bench/egress-rss.sh): a throw-away netns with the test API server and `coil egress` in it,
# on a kernel without FoU. The gateway's FoU and NAT setup are marked done (links named
# fou-dummy and egress-dummy: veths, as there may be no dummy module), so only pods without a
# tunnel can be used: pods without an IP, or with IPv6 ones only (the gateway is IPv4-only and
# skips them). Needs root. Variables: COIL, RIG_NS, RIG_TMP, RIG_API, RIG_METRICS, RIG_PID.
# shellcheck shell=bash
RIG_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RIG_NS=egress-rig-$$
RIG_TMP=$(mktemp -d)
RIG_PIDS=()
RIG_METRICS=127.0.0.1:18080

rig_cleanup() {
	local p
	for p in "${RIG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	ip netns del "$RIG_NS" 2>/dev/null || true
	rm -rf "$RIG_TMP"
}
trap rig_cleanup EXIT

rig_in() { ip netns exec "$RIG_NS" "$@"; }

# rig_start_api: the netns and the API server in it ($RIG_API).
rig_start_api() {
	ip netns add "$RIG_NS"
	ip -n "$RIG_NS" link set lo up
	ip -n "$RIG_NS" link add fou-dummy type veth peer name egress-dummy
	# ip itself, not rig_in: a backgrounded function is a subshell, whose PID ($!) the
	# cleanup would kill, leaving the server running.
	ip netns exec "$RIG_NS" /usr/bin/python3 "$RIG_REPO/test/apiserver/run" --port 0 \
		--port-file "$RIG_TMP/port" >"$RIG_TMP/apiserver.log" 2>&1 &
	RIG_PIDS+=($!)
	local i
	for i in $(seq 100); do [ -s "$RIG_TMP/port" ] && break; sleep 0.1; done
	RIG_API=http://127.0.0.1:$(cat "$RIG_TMP/port")
	cat >"$RIG_TMP/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters: [{name: t, cluster: {server: "$RIG_API"}}]
users: [{name: t, user: {}}]
contexts: [{name: t, context: {cluster: t, user: t}}]
current-context: t
KC
}

# rig_api METHOD PATH [JSON]: one request; fails on an HTTP error.
rig_api() {
	local data=()
	[ $# -ge 3 ] && data=(-H 'Content-Type: application/json' --data-binary "$3")
	rig_in curl -sf -o /dev/null -X "$1" "${data[@]}" "$RIG_API$2"
}

# rig_pod NAME ANNOTATION|"" : a pod in default (no IP).
rig_pod() {
	local ann=""
	[ -n "$2" ] && ann=",\"annotations\":{\"egress.coil.cybozu.com/internet\":\"$2\"}"
	rig_api POST /api/v1/namespaces/default/pods \
		"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"$1\",\"namespace\":\"default\"$ann},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}"
}

# rig_start_gateway [FLAGS...]: coil egress for Egress internet/egress2 ($RIG_PID).
rig_start_gateway() {
	KUBECONFIG=$RIG_TMP/kubeconfig COIL_POD_NAMESPACE=internet COIL_EGRESS_NAME=egress2 \
		COIL_POD_ADDRESSES=10.64.0.5 HOSTNAME=gw-0 \
		ip netns exec "$RIG_NS" "$COIL" egress --metrics-addr "$RIG_METRICS" \
		--health-addr 127.0.0.1:18081 "$@" >"$RIG_TMP/egress.log" 2>&1 &
	RIG_PID=$!
	RIG_PIDS+=($!)
}

# rig_client_count: the gateway's coil_egress_client_pod_count ("" when unreachable).
rig_client_count() {
	rig_in curl -sf "http://$RIG_METRICS/metrics" 2>/dev/null |
		awk '/^coil_egress_client_pod_count/ {print $2}'
}

# rig_wait_count N [SECONDS]: until the gateway reports N clients.
rig_wait_count() {
	local i
	for ((i = 0; i < ${2:-30} * 10; i++)); do
		[ "$(rig_client_count)" = "$1" ] && return 0
		sleep 0.1
	done
	echo "the gateway reports $(rig_client_count) clients, not $1" >&2
	return 1
}
