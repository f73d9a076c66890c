#!/bin/bash
# End-to-end run of the real `coil router` binary (also as the coil-router symlink) in a
# throw-away network namespace that plays the node. The test API server runs inside the same
# namespace (a process in another netns cannot reach the host's 127.0.0.1), Nodes and
# AddressBlocks are created over its REST API with curl, and the kernel's main table is
# checked with `ip`. Everything made here is removed on exit, also on failure.
#
# Usage: test/router/test_router_e2e.sh COIL_BINARY     (exit 0 pass, 1 fail; never skips)
set -uo pipefail

COIL=$(readlink -f "${1:?usage: $0 COIL_BINARY}")
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
NS="coil-router-e2e-$$"
tmp=
server_pid=
router_pid=
failures=0

log() { printf 'test_router_e2e: %s\n' "$*" >&2; }
fail() {
	failures=$((failures + 1))
	log "FAIL: $*"
}
die() {
	fail "$*"
	[ -z "$tmp" ] || { log "router log:"; tail -30 "$tmp/router.log" >&2 2>/dev/null; }
	exit 1
}
cleanup() {
	[ -z "$router_pid" ] || kill -9 "$router_pid" 2>/dev/null
	[ -z "$server_pid" ] || kill -9 "$server_pid" 2>/dev/null
	wait 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	[ -z "$tmp" ] || rm -rf "$tmp"
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || die "must run as root (network namespaces, routes)"
for tool in ip nsenter curl /usr/bin/python3; do
	command -v "$tool" >/dev/null || die "missing tool: $tool"
done
[ -x "$COIL" ] || die "not executable: $COIL"

tmp=$(mktemp -d /tmp/coil-router-e2e.XXXXXX)
# Background processes are started with nsenter directly (not through this function) so that
# $! is the process itself: nsenter execs the command, and signals reach it.
in_ns() { nsenter --net="/var/run/netns/$NS" "$@"; }

# The node: lo, and a veth pair (both ends here, so the link has carrier) on the "L2 network".
ip netns add "$NS" || die "ip netns add"
ip -n "$NS" link set lo up
ip -n "$NS" link add eth0 type veth peer name eth1 || die "veth"
ip -n "$NS" link set eth0 up
ip -n "$NS" link set eth1 up
ip -n "$NS" addr add 10.9.0.1/24 dev eth0
ip -n "$NS" addr add fd09::1/120 dev eth0 nodad
# A stale route of ours (removed at the first sync) and a foreign one (never touched).
ip -n "$NS" route add 192.168.99.0/24 via 10.9.0.99 proto 31 || die "stale route"
ip -n "$NS" route add 10.10.10.0/24 via 10.9.0.5 proto 2 || die "foreign route"

nsenter --net="/var/run/netns/$NS" /usr/bin/python3 "$repo/test/apiserver/run" --port 0 \
	--port-file "$tmp/port" >"$tmp/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 200); do [ -s "$tmp/port" ] && break; sleep 0.05; done
[ -s "$tmp/port" ] || die "API server did not start: $(cat "$tmp/server.log")"
api=http://127.0.0.1:$(cat "$tmp/port")

# req METHOD PATH [JSON] [CONTENT_TYPE]: a request inside the node's netns; fails on HTTP >= 400.
req() {
	local args=(-sS --fail-with-body -X "$1" "$api$2")
	[ $# -lt 3 ] || args+=(-H "Content-Type: ${4:-application/json}" --data-binary "$3")
	in_ns curl "${args[@]}"
}
/usr/bin/python3 "$here/yaml2json.py" "$repo/deploy/crd/addressblocks.yaml" "$tmp/crd.json"
req POST /apis/apiextensions.k8s.io/v1/customresourcedefinitions "$(cat "$tmp/crd.json")" \
	>/dev/null || die "create CRD"
for _ in $(seq 100); do
	req GET /apis/coil.cybozu.com/v2/addressblocks >/dev/null 2>&1 && break
	sleep 0.05
done

node() { # node NAME ADDRESSES_JSON
	req POST /api/v1/nodes "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"$1\"}}" \
		>/dev/null || die "create node $1"
	req PATCH "/api/v1/nodes/$1/status" "{\"status\":{\"addresses\":$2}}" \
		application/merge-patch+json >/dev/null || die "node $1 status"
}
block() { # block NAME NODE FIELDS_JSON
	req POST /apis/coil.cybozu.com/v2/addressblocks "{\"apiVersion\":\"coil.cybozu.com/v2\",
		\"kind\":\"AddressBlock\",\"metadata\":{\"name\":\"$1\",\"labels\":
		{\"coil.cybozu.com/node\":\"$2\",\"coil.cybozu.com/pool\":\"default\"}},$3}" \
		>/dev/null || die "create block $1"
}
node node1 '[{"type":"InternalIP","address":"10.9.0.1"},{"type":"InternalIP","address":"fd09::1"}]'
node node2 '[{"type":"InternalIP","address":"10.9.0.2"},{"type":"InternalIP","address":"fd09::2"}]'
node node3 '[{"type":"ExternalIP","address":"1.2.3.4"},{"type":"InternalIP","address":"10.9.0.3"}]'
block default-0 node1 '"index":0,"ipv4":"10.30.1.0/24","ipv6":"fd02::100/120"'
block default-1 node2 '"index":1,"ipv4":"10.30.2.0/24","ipv6":"fd02::200/120"'
block default-2 node3 '"index":2,"ipv4":"10.30.3.0/24","ipv6":"fd02::300/120"'
block default-3 gone '"index":3,"ipv4":"10.30.4.0/24"'

# The router runs as the coil-router ServiceAccount under deploy/'s RBAC (this script is admin).
in_ns /usr/bin/python3 "$repo/test/apiserver/deploy_rbac.py" "$api" "$tmp" || die "deploy/rbac"
cp "$tmp/coil-router.kubeconfig" "$tmp/kubeconfig"

log "missing COIL_NODE_NAME is an error"
if in_ns env -u COIL_NODE_NAME "$COIL" router --kubeconfig "$tmp/kubeconfig" \
	>"$tmp/noname.log" 2>&1; then
	fail "coil router ran without COIL_NODE_NAME"
fi
grep -q 'COIL_NODE_NAME environment variable must be set' "$tmp/noname.log" ||
	fail "message for missing COIL_NODE_NAME: $(cat "$tmp/noname.log")"

log "start coil-router (symlink name) with upstream's manifest flags"
ln -s "$COIL" "$tmp/coil-router"
nsenter --net="/var/run/netns/$NS" env COIL_NODE_NAME=node1 "$tmp/coil-router" \
	--kubeconfig "$tmp/kubeconfig" --metrics-addr 127.0.0.1:19388 --health-addr 127.0.0.1:19389 \
	--zap-stacktrace-level=panic --update-interval 10m0s >"$tmp/router.log" 2>&1 &
router_pid=$!

routes() { ip -n "$NS" -4 route show proto 31; ip -n "$NS" -6 route show proto 31; }
want="10.30.2.0/24 via 10.9.0.2 dev eth0 
10.30.3.0/24 via 10.9.0.3 dev eth0 
fd02::200/120 via fd09::2 dev eth0 metric 1024 pref medium"
wait_routes() { # wait_routes EXPECTED
	for _ in $(seq 200); do
		[ "$(routes)" == "$1" ] && return 0
		kill -0 "$router_pid" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
wait_routes "$want" || die "routes after start: expected
$want
got
$(routes)"
ip -n "$NS" route show proto 2 | grep -q '^10.10.10.0/24 via 10.9.0.5' || fail "foreign route gone"

log "metrics and probes"
metrics=$(in_ns curl -sS --fail http://127.0.0.1:19388/metrics) || fail "GET /metrics"
grep -q '^coil_router_routes_synced{node="node1"} 3$' <<<"$metrics" ||
	fail "routes_synced: $metrics"
grep -Eq '^coil_router_syncs_total\{node="node1"\} [1-9]' <<<"$metrics" ||
	fail "syncs_total: $metrics"
grep -q '^# TYPE coil_router_syncs_total counter' <<<"$metrics" || fail "counter TYPE line"
for probe in healthz readyz; do
	in_ns curl -sS --fail "http://127.0.0.1:19389/$probe" >/dev/null || fail "GET /$probe"
done

log "a deleted block loses its routes; a new node address moves them"
req DELETE /apis/coil.cybozu.com/v2/addressblocks/default-2 >/dev/null || fail "delete block"
wait_routes "10.30.2.0/24 via 10.9.0.2 dev eth0 
fd02::200/120 via fd09::2 dev eth0 metric 1024 pref medium" || fail "after delete: $(routes)"
req PATCH /api/v1/nodes/node2/status \
	'{"status":{"addresses":[{"type":"InternalIP","address":"10.9.0.22"}]}}' \
	application/merge-patch+json >/dev/null || fail "patch node2"
# Nodes are not watched: the next block event (or tick) picks the new address up.
block default-4 node2 '"index":4,"ipv4":"10.30.5.0/24"'
wait_routes "10.30.2.0/24 via 10.9.0.22 dev eth0 
10.30.5.0/24 via 10.9.0.22 dev eth0 " || fail "after node2 moved: $(routes)"

log "SIGTERM stops it cleanly"
kill -TERM "$router_pid"
for _ in $(seq 100); do kill -0 "$router_pid" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$router_pid" 2>/dev/null; then
	fail "router still running 5 s after SIGTERM"
else
	wait "$router_pid"
	rc=$?
	[ "$rc" -eq 0 ] || fail "exit status after SIGTERM: $rc"
fi
router_pid=

log "a failed sync ends the process with status 1 and says why"
nsenter --net="/var/run/netns/$NS" env COIL_NODE_NAME=node1 "$COIL" router \
	--kubeconfig "$tmp/kubeconfig" --metrics-addr 127.0.0.1:19388 --health-addr 127.0.0.1:19389 >"$tmp/router.log" 2>&1 &
router_pid=$!
wait_routes "10.30.2.0/24 via 10.9.0.22 dev eth0 
10.30.5.0/24 via 10.9.0.22 dev eth0 " || fail "restart: $(routes)"
node node9 '[{"type":"InternalIP","address":"10.99.0.9"}]' # not on any link: unreachable
block default-9 node9 '"index":9,"ipv4":"10.30.9.0/24"'
for _ in $(seq 200); do kill -0 "$router_pid" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$router_pid" 2>/dev/null; then
	fail "router kept running after a failed sync"
else
	wait "$router_pid"
	rc=$?
	[ "$rc" -eq 1 ] || fail "exit status after a failed sync: $rc"
	grep -q 'route synchronization failed' "$tmp/router.log" &&
		grep -q '10.30.9.0/24' "$tmp/router.log" ||
		fail "log does not say why: $(tail -5 "$tmp/router.log")"
fi
router_pid=

denials=$(req GET /_test/denials) || die "read denials"
[ "$denials" = '{"items":[]}' ] || fail "RBAC denied the router: $denials"

if [ "$failures" -ne 0 ]; then
	log "router log:"
	tail -30 "$tmp/router.log" >&2
	log "$failures failure(s)"
	exit 1
fi
log "PASS"
