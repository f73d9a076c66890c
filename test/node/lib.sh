# Shared helpers of the node tests: a "node" network namespace running `coil daemon
# --standalone`, "pods" as further namespaces, and the plugin called as a runtime would.
# Everything made here (netns, processes, temp dir) is removed on exit, also on failure.
#
# A test script sources this file, makes its assertions with check/check_eq/... and ends
# with `finish`, which prints "N passed, N failed" and sets the exit status. A script that
# cannot run (not root, missing tool) fails loudly: a skipped test would hide a regression.
# shellcheck shell=bash
set -uo pipefail

COIL=${COIL:?set COIL to the coil binary}
TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TEST_NAME=$(basename "$0" .sh)
PREFIX="ct$$"
NODE="${PREFIX}-node"
NODE_IPV4=10.20.30.41
NODE_IPV6=fd10::41
POOLS=${POOLS:-$TEST_DIR/pools.yaml}
METRICS_PORT=9384
HEALTH_PORT=9385
# Each test gives up well before ctest's TIMEOUT, so that its cleanup still runs.
SELF_TIMEOUT=${SELF_TIMEOUT:-100}
WORK=
SOCKET=
STATE=
DAEMON_PID=
DAEMON_STATUS= # exit status of the last daemon stopped with stop_daemon
WATCHDOG_PID=
NETNS_MADE=()
MOUNTS_MADE=() # file systems mounted by the test, unmounted by the cleanup
FAILURES=0
PASSES=0
FINISHED=

log() { printf '%s: %s\n' "$TEST_NAME" "$*" >&2; }

# shellcheck source=../shell/checks.sh
source "$TEST_DIR/../shell/checks.sh"

# check_daemon_log: no sanitizer report or crash in the daemon's log (all its runs).
check_daemon_log() {
	local reports
	reports=$(grep -E "ERROR: (AddressSanitizer|LeakSanitizer|ThreadSanitizer)|runtime error:|WARNING: ThreadSanitizer" \
		"$WORK/coild.log" 2>/dev/null | head -n 3)
	check_eq "no sanitizer report in the daemon log" "" "$reports"
}
# finish: stops the daemon gracefully (it must exit 0), then prints the summary; the
# exit status of the test.
finish() {
	if [ -n "$DAEMON_PID" ]; then
		stop_daemon
		check_eq "daemon exits 0 on SIGTERM" 0 "$DAEMON_STATUS"
	fi
	check_daemon_log
	FINISHED=1
	echo "$PASSES passed, $FAILURES failed"
	[ "$FAILURES" -eq 0 ]
}

# Processes we started in the background (plugin calls of concurrent tests).
kill_jobs() {
	local pid
	for pid in $(jobs -p); do
		if [ "$pid" == "$DAEMON_PID" ] || [ "$pid" == "$WATCHDOG_PID" ]; then
			continue
		fi
		pkill -9 -P "$pid" 2>/dev/null # the plugin a job's subshell runs
		kill -9 "$pid" 2>/dev/null
	done
	wait 2>/dev/null
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_daemon
	[ -z "$WATCHDOG_PID" ] || kill "$WATCHDOG_PID" 2>/dev/null
	kill_jobs
	local ns pids
	for ns in "${NETNS_MADE[@]}"; do
		# Anything still running in our namespaces was started by this test and escaped
		# its bookkeeping: a bug of the test, but it must not outlive it.
		pids=$(ip netns pids "$ns" 2>/dev/null | paste -sd' ')
		if [ -n "$pids" ]; then
			fail "processes left in netns $ns: $pids (killed)"
			# shellcheck disable=SC2086 # one argument per PID
			kill -9 $pids 2>/dev/null
		fi
		ip netns del "$ns" 2>/dev/null
	done
	if [ -n "$WORK" ] && [ "$FAILURES" -gt 0 ] && [ -s "$WORK/coild.log" ]; then
		log "daemon log (sanitizer reports first, then the last lines):"
		grep -v '^{' "$WORK/coild.log" | head -n 60 >&2
		tail -n 20 "$WORK/coild.log" | grep '^{' >&2
	fi
	local m
	for m in "${MOUNTS_MADE[@]}"; do umount "$m" 2>/dev/null || umount -l "$m"; done
	[ -z "$WORK" ] || rm -rf "$WORK"
	if [ -z "$FINISHED" ]; then
		# Aborted (die, a signal, the watchdog): still report, and never as a success.
		[ "$FAILURES" -gt 0 ] || fail "aborted with status $rc"
		echo "$PASSES passed, $FAILURES failed"
		[ "$rc" -ne 0 ] || rc=1
	fi
	exit "$rc"
}

require_root_and_tools() {
	[ "$(id -u)" -eq 0 ] || die "must run as root (network namespaces, veths)"
	local tool
	for tool in ip nsenter jq ping "$@"; do
		command -v "$tool" >/dev/null || die "required tool missing: $tool"
	done
	[ -x "$COIL" ] || die "COIL=$COIL is not an executable"
}

init_test() { # init_test [extra required tools...]
	trap cleanup EXIT
	trap 'log "interrupted"; exit 1' INT TERM
	require_root_and_tools "$@"
	WORK=$(mktemp -d "/tmp/coil-${TEST_NAME}.XXXXXX") || die "mktemp failed"
	SOCKET="$WORK/coild.sock"
	STATE="$WORK/state"
	# The watchdog kills its own sleep when it is stopped, so no process outlives the test.
	(
		trap 'kill $sleeper 2>/dev/null; exit 0' TERM
		sleep "$SELF_TIMEOUT" &
		sleeper=$!
		wait "$sleeper" && log "self-timeout after ${SELF_TIMEOUT}s" && kill -TERM $$
	) &
	WATCHDOG_PID=$!
}

make_netns() {
	ip netns add "$1" || die "ip netns add $1 failed"
	NETNS_MADE+=("$1")
	ip -n "$1" link set lo up
}

del_netns() {
	ip netns del "$1"
	local i
	for i in "${!NETNS_MADE[@]}"; do
		[ "${NETNS_MADE[$i]}" != "$1" ] || unset 'NETNS_MADE[i]'
	done
}

in_node() { nsenter --net="/var/run/netns/$NODE" "$@"; }

# start_daemon [extra flags...]: POOLS and STATE may be changed between starts. Returns
# once the daemon logged "coild started" (socket listening, HTTP servers up) once more than
# before: the socket file alone appears at bind(), before listen(), and a crashed daemon's
# socket file stays behind.
start_daemon() {
	local started _
	started=$(grep -c '"coild started"' "$WORK/coild.log" 2>/dev/null)
	# nsenter itself, not in_node: a backgrounded function runs in a subshell, and $! would
	# be that subshell's PID instead of the daemon's (exec'd by nsenter).
	# --empty-block-grace 0: these tests check that the DEL that empties a block releases
	# it (test_reap checks the grace period).
	nsenter --net="/var/run/netns/$NODE" "$COIL" daemon --standalone --config "$POOLS" \
		--state-dir "$STATE" --empty-block-grace "${EMPTY_BLOCK_GRACE:-0}" \
		--socket "$SOCKET" --node-ipv4 "$NODE_IPV4" --node-ipv6 "$NODE_IPV6" \
		--metrics-addr "127.0.0.1:$METRICS_PORT" --health-addr "127.0.0.1:$HEALTH_PORT" \
		"$@" >>"$WORK/coild.log" 2>&1 &
	DAEMON_PID=$!
	local now
	for _ in $(seq 500); do
		# The log may not exist yet: the shell opens it in the child, which a loaded machine
		# may not have run yet. Count that as no start (an empty count failed the test
		# and, worse, returned as if the daemon were up).
		now=$(grep -c '"coild started"' "$WORK/coild.log" 2>/dev/null)
		[ "${now:-0}" -le "${started:-0}" ] || return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.02
	done
	log "daemon did not start:"
	tail -n 20 "$WORK/coild.log" >&2
	return 1
}

# daemon_exited: whether the daemon exits within 5 s.
daemon_exited() {
	local _
	for _ in $(seq 250); do
		kill -0 "$DAEMON_PID" 2>/dev/null || return 0
		sleep 0.02
	done
	return 1
}

# stop_daemon: SIGTERM (graceful), SIGKILL if it does not stop within 5 s.
stop_daemon() {
	[ -n "$DAEMON_PID" ] || return 0
	kill "$DAEMON_PID" 2>/dev/null
	if ! daemon_exited; then
		fail "daemon did not stop within 5 s of SIGTERM"
		kill -9 "$DAEMON_PID" 2>/dev/null
	fi
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_STATUS=$?
	DAEMON_PID=
}

# expect_daemon_killed LABEL: the daemon died of SIGKILL (a fault point) within 5 s.
expect_daemon_killed() {
	if ! daemon_exited; then
		fail "$1: the daemon is still running (fault point not compiled in or not reached)"
		kill -9 "$DAEMON_PID"
	fi
	wait "$DAEMON_PID" 2>/dev/null
	check_eq "$1: the daemon died of SIGKILL" 137 "$?"
	DAEMON_PID=
}

kill_daemon() { # SIGKILL, as a crash
	[ -n "$DAEMON_PID" ] || return 0
	kill -9 "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
}

setup_node() { # setup_node [daemon flags...]
	make_netns "$NODE"
	start_daemon "$@" || die "daemon did not start"
}

netconf() { # netconf [cniVersion] [extra JSON members]
	printf '{"cniVersion":"%s","name":"k8s-pod-network","type":"coil","socket":"%s"%s}' \
		"${1:-1.0.0}" "$SOCKET" "${2:+,$2}"
}

pod_ns() { echo "${PREFIX}-$1"; }
in_pod() {
	local p=$1
	shift
	nsenter --net="/var/run/netns/$(pod_ns "$p")" "$@"
}

# cni COMMAND CONTAINER-ID NETNS-NAME [POD-NAMESPACE [IFNAME [NETCONF]]]: runs the plugin in
# the node netns like a runtime; stdout is the plugin's output, the exit code its status.
# NETNS-NAME "" gives an empty CNI_NETNS; a value starting with / is used as the path.
cni() {
	local cmd=$1 id=$2 ns=$3 podns=${4:-default} ifname=${5:-eth0}
	local conf=${6:-$(netconf)}
	local netns_path=""
	case $ns in
	"") ;;
	/*) netns_path=$ns ;;
	*) netns_path="/var/run/netns/$ns" ;;
	esac
	in_node env -i PATH="$PATH" CNI_COMMAND="$cmd" CNI_CONTAINERID="$id" \
		CNI_NETNS="$netns_path" CNI_IFNAME="$ifname" CNI_PATH=/usr/lib/cni \
		CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=$podns;K8S_POD_NAME=$id" \
		"$COIL" <<<"$conf"
}

# add_pod NAME [POD-NAMESPACE [NETCONF]]: makes the pod netns and runs ADD; the plugin's
# output is left in OUT and its exit status in RC. (Not to be called in $(...): the netns
# must be recorded in this shell for the cleanup.)
OUT=
RC=
add_pod() {
	make_netns "$(pod_ns "$1")"
	OUT=$(cni ADD "$1" "$(pod_ns "$1")" "${2:-default}" eth0 "${3:-}")
	RC=$?
}

# del_pod NAME [NETCONF]: DEL of the pod (its netns stays).
del_pod() { cni DEL "$1" "$(pod_ns "$1")" default eth0 "${2:-}"; }

# gc_cni VALID-ID...: CNI GC (1.1.0) keeping the attachments <id>/eth0 of the given pods.
gc_cni() {
	local list
	list=$(printf '%s\n' "$@" | jq -R 'select(length>0) | {containerID: ., ifname: "eth0"}' |
		jq -cs .)
	in_node env -i PATH="$PATH" CNI_COMMAND=GC CNI_PATH=/usr/lib/cni "$COIL" \
		<<<"$(netconf 1.1.0 "\"cni.dev/valid-attachments\":$list")"
}

# The error code of a plugin error document ("" when it is none).
err_code() { jq -r '.code // empty' <<<"$1" 2>/dev/null; }
err_msg() { jq -r '.msg // empty' <<<"$1" 2>/dev/null; }

# ips_of RESULT FAMILY(4|6): the addresses (without prefix) of a CNI result.
ips_of() {
	jq -r --arg fam "$2" '.ips[]?.address | split("/")[0]
		| select((contains(":")) == ($fam == "6"))' <<<"$1"
}

# spawn_cni COMMAND NAME...: the plugin for each pod at once, in the background; its output
# goes to $WORK/COMMAND.NAME.out and its exit status to $WORK/COMMAND.NAME.rc.
spawn_cni() {
	local cmd=$1 p
	shift
	for p in "$@"; do
		(
			cni "$cmd" "$p" "$(pod_ns "$p")" >"$WORK/$cmd.$p.out"
			echo $? >"$WORK/$cmd.$p.rc"
		) &
	done
}
# wait_jobs: waits for the background plugin calls, not for the daemon or the watchdog.
wait_jobs() {
	local pid
	for pid in $(jobs -p); do
		[ "$pid" == "$DAEMON_PID" ] || [ "$pid" == "$WATCHDOG_PID" ] || wait "$pid"
	done
}
# spawned_ok COMMAND NAME: whether that spawned call succeeded; spawned_out: its output.
spawned_ok() { [ "$(cat "$WORK/$1.$2.rc" 2>/dev/null)" == 0 ]; }
spawned_out() { cat "$WORK/$1.$2.out"; }

# --- kernel state of the node -------------------------------------------------------------

# Host veths carrying a COIL alias: "<name> <alias>" per line.
aliased_veths() {
	ip -n "$NODE" -j -d link show type veth |
		jq -r '.[] | select((.ifalias // "") | startswith("COIL:")) | "\(.ifname) \(.ifalias)"'
}
host_veth_of() { # host_veth_of CONTAINER-ID: the host veth's name
	ip -n "$NODE" -j -d link show type veth | jq -r --arg id "$1" '.[]
		| select((.ifalias // "") | split(":") | .[0] == "COIL" and .[2] == $id and .[3] == "eth0")
		| .ifname'
}
# A DEL retires the host veth (down, link group COIL_REAP_GROUP, alias COILREAP:...) and the
# daemon deletes it in the background. Checks of what a DEL leaves behind in the end wait
# for that reap first (bounded: a reap that does not happen leaves the veth to be counted).
COIL_REAP_GROUP=1129269580
retired_veths() {
	# ip -j prints an empty object for each link outside the group.
	ip -n "$NODE" -j link show group "$COIL_REAP_GROUP" | jq -r '.[].ifname // empty'
}
wait_reaped() {
	local i
	for ((i = 0; i < 200; i++)); do
		# The text output shows only the group's links: one process, no jq.
		[ -z "$(ip -n "$NODE" link show group "$COIL_REAP_GROUP")" ] && return 0
		sleep 0.05
	done
	log "retired veths not reaped after 10 s: $(retired_veths | paste -sd' ')"
	return 1
}
# link_attr NETNS DEV JQ-FIELD: e.g. link_attr "$NODE" veth0 .mtu (sysfs would show the
# links of the netns that mounted it, not of the one we entered).
link_attr() { ip -n "$1" -j link show dev "$2" | jq -r ".[0]$3"; }
link_exists() {
	wait_reaped
	ip -n "$1" link show dev "$2" >/dev/null 2>&1
}
all_veths() {
	wait_reaped
	ip -n "$NODE" -j link show type veth | jq -r '.[].ifname'
}
table_routes() { # table_routes 4|6 TABLE: "dst dev" per line
	local routes errors
	routes=$(ip -n "$NODE" -"$1" -j route show table "$2" 2>&1 >/dev/null)
	errors=$?
	# An IPv4 table that never had a route "does not exist": that is empty too.
	if [ "$errors" -ne 0 ]; then
		grep -q "FIB table does not exist" <<<"$routes" || echo "ERROR: $routes"
		return
	fi
	ip -n "$NODE" -"$1" -j route show table "$2" | jq -r '.[] | "\(.dst) \(.dev)"'
}
allocation_count() {
	wait_reaped
	find "$STATE/allocations" -type f 2>/dev/null | wc -l
}
allocation_ids() { # container IDs with an allocation record
	local f
	wait_reaped
	for f in "$STATE"/allocations/*; do
		[ -f "$f" ] && jq -r .container_id "$f"
	done
}
sorted_allocation_ids() { allocation_ids | sort | paste -sd,; }
record_of() { allocation_ids | grep -x "$1"; } # record_of ID: ID if it has a record
# settled WANT CMD...: CMD's output once it equals WANT, or its last output after 5 s. The
# reaper frees a retired attachment's record just after its veth is gone, which is all
# allocation_ids waits for; a slow (sanitizer) build shows the gap.
settled() {
	local want=$1 out i
	shift
	for ((i = 0; i < 100; i++)); do
		out=$("$@")
		[ "$out" != "$want" ] || break
		sleep 0.05
	done
	echo "$out"
}
settled_allocation_ids() { settled "$1" sorted_allocation_ids; }
state_blocks() {
	wait_reaped
	jq -r '.blocks | length' "$STATE/blocks.json" 2>/dev/null || echo 0
}

# Every eth0 address of the given pods, default every pod netns we made ("addr netns" per
# line).
pod_addresses() {
	local ns list=("${NETNS_MADE[@]}") p
	if [ $# -gt 0 ]; then
		list=()
		for p in "$@"; do list+=("$(pod_ns "$p")"); done
	fi
	wait_reaped
	for ns in "${list[@]}"; do
		[ "$ns" != "$NODE" ] || continue
		ip -n "$ns" -j addr show dev eth0 2>/dev/null |
			jq -r --arg ns "$ns" '.[].addr_info[] | select(.scope=="global") | "\(.local) \($ns)"'
	done
}

# Addresses in use: on any pod's eth0, or routed to a pod in table 116.
used_addresses() {
	pod_addresses | awk '{print $1}'
	table_routes 4 116 | awk '{print $1}'
	table_routes 6 116 | awk '{print $1}'
}
check_no_double_use() { # LABEL [POD...]: among the given pods, default all
	local what=$1
	shift
	check_eq "$what: no address on two pods" "" \
		"$(pod_addresses "$@" | awk '{print $1}' | sort | uniq -d)"
	check_eq "$what: no address routed to two veths in table 116" "" \
		"$( (table_routes 4 116; table_routes 6 116) | awk '{print $1}' | sort | uniq -d)"
}

# check_node_empty: nothing of any pod is left on the node (state dir included).
# The reap frees the addresses after the veths are gone, and the release of an emptied block
# re-exports table 119 after that: a moment to settle (bounded) before the checks.
node_looks_empty() {
	[ -z "$(aliased_veths)$(table_routes 4 119)$(table_routes 6 119)" ] &&
		[ "$(allocation_count)" == 0 ]
}
check_node_empty() { # check_node_empty LABEL
	wait_for 5 node_looks_empty || true
	check_eq "$1: aliased veths" "" "$(aliased_veths)"
	check_eq "$1: table 116 IPv4" "" "$(table_routes 4 116)"
	check_eq "$1: table 116 IPv6" "" "$(table_routes 6 116)"
	check_eq "$1: table 119 IPv4" "" "$(table_routes 4 119)"
	check_eq "$1: table 119 IPv6" "" "$(table_routes 6 119)"
	check_eq "$1: allocation records" 0 "$(allocation_count)"
	check_eq "$1: blocks in blocks.json" 0 "$(state_blocks)"
}

# http_get PORT PATH: "status-code\nbody" from the daemon's HTTP servers in the node netns;
# bash's /dev/tcp, so neither curl nor python is needed.
http_get() {
	# shellcheck disable=SC2016 # $1 and $2 are the inner shell's
	in_node timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf "GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n" "$2" >&3
		cat <&3' _ "$1" "$2" | tr -d '\r'
}
http_status() { http_get "$1" "$2" | head -n1 | awk '{print $2}'; }

# wait_for SECONDS CMD...: polls CMD every 20 ms until it succeeds.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.02
	done
}
