# Shared helpers of the cluster benchmarks (burst.sh, daemon-rss.sh, controller-scale.sh): a
# throw-away network namespace holding the test API server and coil's processes, their logs in
# a temp dir, and a cleanup that removes all of it on any exit (success, failure, Ctrl-C).
# shellcheck shell=bash

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/../.." && pwd)
COIL=${COIL:-$REPO/build/cmd/coil}
PYTHON=/usr/bin/python3
export LC_ALL=C # decimal points in printf/awk, byte order in sort
BENCH_NAME=$(basename "$0" .sh)
FAST_LEADER=(COIL_LEADER_LEASE_DURATION=2s COIL_LEADER_RENEW_DEADLINE=1500ms
	COIL_LEADER_RETRY_PERIOD=300ms)
LEASE_PATH=/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/coil-ipam-leader
# shellcheck disable=SC2034 # used by the scripts that source this file
GROUP_PATH=/apis/coil.cybozu.com/v2

now_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((t / 1000))
}

START_MS=$(now_ms) # log lines show the time since

WORK=""   # temp dir: logs, kubeconfig, sockets, state
API_URL="" # the test API server, inside the netns
declare -a MADE_NETNS=() STARTED_PIDS=()

log() {
	printf '%s: [%6.1f s] %s\n' "$BENCH_NAME" "$((($(now_ms) - START_MS) / 100))e-1" "$*" >&2
}

die() {
	log "FAILED: $*"
	exit 1
}

# cleanup: stops what we started (by PID), kills anything left in our namespaces (plugin
# calls of an interrupted burst), deletes them and the temp dir.
cleanup() {
	local rc=$? pid ns pids
	trap - EXIT INT TERM
	for pid in "${STARTED_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${STARTED_PIDS[@]}"; do
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	for ns in "${MADE_NETNS[@]}"; do
		pids=$(ip netns pids "$ns" 2>/dev/null | paste -sd' ')
		# shellcheck disable=SC2086 # one argument per PID
		[[ -z $pids ]] || kill -KILL $pids 2>/dev/null || true
	done
	delete_netns "${MADE_NETNS[@]}"
	if ((rc != 0)) && [[ -n $WORK ]]; then
		show_logs
	fi
	[[ -z $WORK ]] || rm -rf "$WORK"
	exit "$rc"
}

show_logs() {
	local f
	for f in "$WORK"/*.log; do
		[[ -s $f ]] || continue
		log "last lines of $(basename "$f"):"
		tail -n 8 "$f" >&2
	done
}

# require_tools TOOL...: dies naming the first one missing.
require_tools() {
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null || die "required tool missing: $tool"
	done
}

# init_bench: root, the tools, the coil binary; the temp dir and the traps.
init_bench() {
	trap cleanup EXIT
	trap 'log "interrupted"; exit 130' INT
	trap 'exit 143' TERM
	((EUID == 0)) || die "must run as root (network namespaces)"
	require_tools ip nsenter curl jq awk "$PYTHON"
	"$PYTHON" -c 'import yaml' 2>/dev/null || die "python3-yaml is needed ($PYTHON -c 'import yaml' failed)"
	[[ -x $COIL ]] || die "COIL=$COIL is not an executable (build it, or set COIL=)"
	WORK=$(mktemp -d "/tmp/coil-$BENCH_NAME.XXXXXX") || die "mktemp failed"
}

# make_netns NAME...: in one ip process; loopback up in each.
make_netns() {
	local ns
	MADE_NETNS+=("$@")
	printf 'netns add %s\n' "$@" | ip -batch - || die "creating the netns $1 ... failed"
	printf 'netns exec %s ip link set lo up\n' "$@" | ip -batch - >/dev/null ||
		die "setting lo up in the netns $1 ... failed"
	for ns in "$@"; do
		[[ -e /var/run/netns/$ns ]] || die "netns $ns missing after creation"
	done
}

# delete_netns NAME...: in one ip process, ignoring ones already gone.
delete_netns() {
	local ns
	(($#)) || return 0
	for ns in "$@"; do
		[[ -e /var/run/netns/$ns ]] && echo "netns delete $ns"
	done | ip -force -batch - 2>/dev/null || true
}

in_ns() {
	local ns=$1
	shift
	nsenter --net="/var/run/netns/$ns" -- "$@"
}

# start_bg VAR NS LOGNAME [ENV=VALUE...] -- CMD...: CMD in the netns, in the background,
# output to $WORK/LOGNAME.log; its PID (nsenter and env exec it, so the PID is CMD's own)
# goes to VAR and to the cleanup list.
start_bg() {
	local var=$1 ns=$2 name=$3
	local -a envs=()
	shift 3
	while [[ $1 != -- ]]; do
		envs+=("$1")
		shift
	done
	shift
	env "${envs[@]}" nsenter --net="/var/run/netns/$ns" -- "$@" >>"$WORK/$name.log" 2>&1 &
	STARTED_PIDS+=("$!")
	printf -v "$var" '%s' "$!"
}

# wait_until SECONDS WHAT CMD...: polls CMD every 50 ms; dies naming WHAT on timeout.
wait_until() {
	local limit=$1 what=$2 deadline=$((SECONDS + $1))
	shift 2
	until "$@"; do
		((SECONDS < deadline)) || die "timed out after $limit s waiting for $what"
		sleep 0.05
	done
}

alive() {
	kill -0 "$1" 2>/dev/null
}

# start_apiserver NS: the test API server on 127.0.0.1 of the netns, with deploy/crd;
# sets API_URL and APISERVER_PID.
start_apiserver() {
	local ns=$1 port_file=$WORK/apiserver.port
	start_bg APISERVER_PID "$ns" apiserver -- "$PYTHON" "$REPO/test/apiserver/run" \
		--port 0 --port-file "$port_file"
	wait_until 20 "the API server to write $port_file" file_has_content "$port_file" "$APISERVER_PID"
	API_URL=http://127.0.0.1:$(cat "$port_file")
	in_ns "$ns" "$PYTHON" "$BENCH_DIR/kubeobj.py" "$API_URL" crds || die "applying deploy/crd failed"
}

# file_has_content FILE PID: FILE is non-empty; dies if PID is gone.
file_has_content() {
	alive "$2" || die "the process $2 exited (see the log above)"
	[[ -s $1 ]]
}

# api_get NS PATH: the JSON body (curl fails on an HTTP error).
api_get() {
	in_ns "$1" curl -sSf --max-time 30 "$API_URL$2"
}

# http_body NS URL: GET from inside the netns; empty on any error.
http_body() {
	in_ns "$1" curl -sf --max-time 5 "$2" 2>/dev/null || true
}

# write_kubeconfig FILE: a kubeconfig without credentials for API_URL.
write_kubeconfig() {
	cat >"$1" <<EOF
apiVersion: v1
kind: Config
current-context: bench
clusters: [{name: bench, cluster: {server: "$API_URL"}}]
users: [{name: bench, user: {}}]
contexts: [{name: bench, context: {cluster: bench, user: bench}}]
EOF
}

# start_controller NS: one `coil ipam-controller` (COIL_POD_NAME bench-ctl, fast leader
# timings, metrics on 127.0.0.1:9386 of the netns). No certificate in --cert-dir: the
# webhook server fails its handshakes, which nothing here needs. Sets CONTROLLER_PID.
start_controller() {
	local ns=$1
	mkdir -p "$WORK/certs"
	write_kubeconfig "$WORK/kubeconfig-controller"
	start_bg CONTROLLER_PID "$ns" controller COIL_POD_NAME=bench-ctl "${FAST_LEADER[@]}" -- \
		"$COIL" ipam-controller --kubeconfig "$WORK/kubeconfig-controller" \
		--metrics-addr 127.0.0.1:9386 --health-addr 127.0.0.1:9387 \
		--webhook-addr 127.0.0.1:9443 --cert-dir "$WORK/certs"
}

# start_node_daemon NS NODE NODE-IPV4 NODE-IPV6 NAMESPACE PODS: the objects of one node
# (kubeobj.py burst: Node, Namespace, pool `default` with blockSizeBits 5, PODS Pods pod-<i>),
# one ipam-controller and `coil daemon` for NODE in Kubernetes mode (socket
# $WORK/coild.sock, metrics 127.0.0.1:9384), waited for; writes $WORK/netconf.json and sets
# DAEMON_PID.
start_node_daemon() {
	local ns=$1 node=$2
	start_apiserver "$ns"
	in_ns "$ns" "$PYTHON" "$BENCH_DIR/kubeobj.py" "$API_URL" burst --node "$node" \
		--node-ipv4 "$3" --node-ipv6 "$4" --namespace "$5" \
		--pods "$6" --pod-prefix pod- --ipv4 10.100.0.0/16 --ipv6 fd00:100::/112 \
		--block-bits 5 || die "creating the objects failed"
	start_controller "$ns"
	wait_until 20 "coil ipam-controller to take the lease" controller_leads "$ns"
	write_kubeconfig "$WORK/kubeconfig-daemon"
	start_bg DAEMON_PID "$ns" coild COIL_NODE_NAME="$node" -- \
		"$COIL" daemon --kubeconfig "$WORK/kubeconfig-daemon" --socket "$WORK/coild.sock" \
		--state-dir "$WORK/state" --metrics-addr 127.0.0.1:9384 --health-addr 127.0.0.1:9385 \
		--enable-egress=false --empty-block-grace 0 # burst.sh checks the DELs release the blocks
	wait_until 20 "coil daemon to start" daemon_started
	printf '{"cniVersion":"1.0.0","name":"k8s-pod-network","type":"coil","socket":"%s"}\n' \
		"$WORK/coild.sock" >"$WORK/netconf.json"
}

daemon_started() {
	alive "$DAEMON_PID" || die "coil daemon exited"
	grep -qs '"coild started"' "$WORK/coild.log"
}

# build_burst_driver: $WORK/burst-driver from burst_driver.c (with cc).
build_burst_driver() {
	cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -o "$WORK/burst-driver" \
		"$BENCH_DIR/burst_driver.c" "$REPO/bench/cni_call.c" "$REPO/bench/latency.c" -lm ||
		die "building the burst driver failed"
}

# The burst of one node, for the scripts that set NODE_NS, POD_NS_PREFIX, PODS,
# POD_NAMESPACE and TAG. make_namespaces: the node netns and PODS pod netns.
make_namespaces() {
	local -a names=("$NODE_NS")
	local i
	for ((i = 0; i < PODS; i++)); do
		names+=("$POD_NS_PREFIX$i")
	done
	make_netns "${names[@]}"
}

# run_driver COMMAND: the burst of PODS calls from the node netns; key=value results in
# $WORK/COMMAND.out.
run_driver() {
	in_ns "$NODE_NS" "$WORK/burst-driver" --plugin "$COIL" --command "$1" \
		--netconf "$WORK/netconf.json" --netns-prefix "/var/run/netns/$POD_NS_PREFIX" \
		--pods "$PODS" --pod-namespace "$POD_NAMESPACE" --pod-prefix pod- \
		--container-prefix "burst-$TAG-" >"$WORK/$1.out" || {
		cat "$WORK/$1.out" >&2
		die "$1 burst: some calls failed (see above)"
	}
}

# controller_leads NS: the lease names our controller (dies if the controller is gone).
controller_leads() {
	alive "$CONTROLLER_PID" || die "coil ipam-controller exited"
	[[ $(api_get "$1" "$LEASE_PATH" 2>/dev/null | jq -r '.spec.holderIdentity // empty') == bench-ctl ]]
}

# allocated_blocks NS: coil_controller_allocated_blocks{pool="default"} ("" if not shown).
allocated_blocks() {
	http_body "$1" http://127.0.0.1:9386/metrics |
		awk '$1 == "coil_controller_allocated_blocks{pool=\"default\"}" {print $2}'
}

# proc_kib PID FIELD: a VmRSS/VmHWM line of /proc/PID/status in KiB.
proc_kib() {
	awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status" 2>/dev/null
}

mib() {
	awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'
}


# check_log_clean FILE: no crash or sanitizer report in a component's log.
check_log_clean() {
	! grep -qE 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:' "$WORK/$1.log" ||
		die "sanitizer report in $1.log"
}
