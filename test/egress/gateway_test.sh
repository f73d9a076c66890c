#!/usr/bin/env bash
# The built `coil egress` process against the test API server (rig: gateway_rig.sh):
# configuration errors, readiness after the initial sync, and the client set following pod
# events: new client, pod that is not one, annotation dropped (upstream kept it), Egress
# removed from the list, pod deleted, host-network pod. Usage: gateway_test.sh /path/to/coil
set -uo pipefail
COIL=${1:?usage: gateway_test.sh /path/to/coil}
# shellcheck source=gateway_rig.sh
. "$(dirname "$0")/gateway_rig.sh"
FAILED=0
check() {
	local what=$1
	shift
	if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; FAILED=1; fi
}
exits_1_with() { # exits_1_with MESSAGE ENV... -- ARGS...
	local msg=$1 out
	shift
	out=$(env "$@" 2>&1)
	[ $? -eq 1 ] && grep -qF "$msg" <<<"$out"
}

check "bad --backend" exits_1_with "invalid backend: ipvs (must be either iptables or nftables)" \
	COIL_POD_NAMESPACE=a COIL_EGRESS_NAME=b COIL_POD_ADDRESSES=10.0.0.1 "$COIL" egress --backend ipvs
check "no COIL_POD_NAMESPACE" exits_1_with "COIL_POD_NAMESPACE environment variable must be set" \
	-u COIL_POD_NAMESPACE "$COIL" egress
check "bad COIL_POD_ADDRESSES" exits_1_with "COIL_POD_ADDRESSES contains invalid address: x" \
	COIL_POD_NAMESPACE=a COIL_EGRESS_NAME=b COIL_POD_ADDRESSES=10.0.0.1,x "$COIL" egress

rig_start_api
rig_pod pod1 egress2
rig_pod pod2 "egress1,egress2"
rig_pod pod3 egress1
rig_pod pod4 ""
rig_start_gateway --backend nftables --enable-sport-auto
check "two clients after the initial sync" rig_wait_count 2
check "ready after the initial sync" rig_in curl -sf -o /dev/null http://127.0.0.1:18081/readyz
check "healthy" rig_in curl -sf -o /dev/null http://127.0.0.1:18081/healthz
rig_pod pod5 egress2
check "a new client" rig_wait_count 3
annotate() { # annotate POD VALUE-JSON: merge-patch the client annotation
	rig_in curl -sf -o /dev/null -X PATCH -H 'Content-Type: application/merge-patch+json' \
		--data-binary "{\"metadata\":{\"annotations\":{\"egress.coil.cybozu.com/internet\":$2}}}" \
		"$RIG_API/api/v1/namespaces/default/pods/$1"
}
annotate pod1 null
check "a client that dropped the annotation is released" rig_wait_count 2
annotate pod2 '"egress1"'
check "a client that dropped this Egress from its list is released" rig_wait_count 1
rig_api DELETE /api/v1/namespaces/default/pods/pod5
check "a deleted client is released" rig_wait_count 0
rig_api POST /api/v1/namespaces/default/pods '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"hostpod","namespace":"default","annotations":{"egress.coil.cybozu.com/internet":"egress2"}},"spec":{"hostNetwork":true,"containers":[{"name":"c","image":"busybox"}]}}'
rig_pod pod6 egress2
check "a host-network pod is not a client" rig_wait_count 1
check "the gateway still runs" kill -0 "$RIG_PID"
kill -TERM "$RIG_PID"
wait "$RIG_PID"
check "SIGTERM ends it with 0" [ $? -eq 0 ]
[ "$FAILED" = 0 ] || { echo "--- coil egress log"; cat "$RIG_TMP/egress.log"; }
exit "$FAILED"
