#!/bin/bash
# CNI plugin benchmark: ADD/DEL latency (p50, p99 over N pods, one call at a
# time), a burst of N concurrent ADDs (and DELs), and a daemon's VmRSS, for each
# configuration, each in its own throw-away "node" netns; then a table, and the
# ratios of each configuration against the one its COMPARE_TO names.
#
#   bench/cni-bench.sh [--pods N] [--rounds R] [--driver BIN] [--no-reference] [CONF...]
#
# CONF files (bash, see bench/configs/*.conf and bench/README.md) default to
# bench/configs/coil-v4.conf and coil-dual.conf (against ptp + host-local). A configuration's COMPARE_TO
# reference that was not given is run too, from bench/configs/NAME.conf
# (unless --no-reference).
# --rounds R: run every configuration R times, round-robin (so drifting load
# hits all alike), and report the median of each figure.
# --driver: the cni-bench binary (default: build/bench/cni-bench or any
# build*/bench/cni-bench if present, else built here with cc into a temp dir).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PODS=100
ROUNDS=1
ROUND=1
DRIVER=""
WITH_REFERENCE=true
declare -a CONFS=() NAMES=() RUN_LIST=()
declare -A RES=() COMPARE=()
FAILED=0

# Resources of the run, released by cleanup (also on failure or signal).
TOP=""
declare -a CLEAN_NETNS=() CLEAN_PIDS=()

log() {
	printf 'cni-bench: %s\n' "$*" >&2
}

die() {
	log "error: $*"
	exit 1
}

cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM
	for pid in "${CLEAN_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	delete_netns "${CLEAN_NETNS[@]}"
	[[ -z $TOP ]] || rm -rf "$TOP"
	exit "$rc"
}

# delete_netns NAME...: in one ip process, ignoring ones already gone.
delete_netns() {
	local ns
	(($#)) || return 0
	for ns in "$@"; do
		[[ -e /var/run/netns/$ns ]] && echo "netns delete $ns"
	done | ip -force -batch - 2>/dev/null || true
}

newer_than_sources() {
	local src
	for src in "$HERE"/*.c "$HERE"/*.h; do
		[[ $src -nt $1 ]] && return 1
	done
	return 0
}

find_driver() {
	local candidate
	[[ -z $DRIVER ]] || return 0
	for candidate in "$HERE"/../build/bench/cni-bench "$HERE"/../build*/bench/cni-bench; do
		if [[ -x $candidate ]] && newer_than_sources "$candidate"; then
			DRIVER=$candidate
			return 0
		fi
	done
	DRIVER=$TOP/cni-bench
	cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -o "$DRIVER" \
		"$HERE/cni_bench.c" "$HERE/cni_call.c" "$HERE/latency.c" -lm -pthread ||
		die "building the cni-bench driver failed"
}

# load_conf FILE: sets the C_* variables of one configuration.
load_conf() {
	local file=$1 dir
	dir=$(cd "$(dirname "$file")" && pwd)
	NAME="" NETCONF="" PLUGIN="" CNI_PATH="" SETUP="" DAEMON="" WAIT_FOR="" TEARDOWN=""
	FREED_CHECK="" COMPARE_TO="" RSS_PID_FILE=""
	# shellcheck source=/dev/null
	source "$file"
	[[ -n $NAME && -n $NETCONF && -n $PLUGIN ]] || die "$file: NAME, NETCONF and PLUGIN are required"
	[[ $NETCONF == /* ]] || NETCONF=$dir/$NETCONF
	[[ -r $NETCONF ]] || die "$file: NETCONF $NETCONF is not readable"
	[[ -x $PLUGIN ]] || die "$file: PLUGIN $PLUGIN is not executable"
	C_NAME=$NAME C_NETCONF=$NETCONF C_PLUGIN=$PLUGIN
	C_CNI_PATH=${CNI_PATH:-$(dirname "$PLUGIN")}
	C_SETUP=$SETUP C_DAEMON=$DAEMON C_WAIT_FOR=$WAIT_FOR C_TEARDOWN=$TEARDOWN
	C_FREED_CHECK=$FREED_CHECK C_RSS_PID_FILE=$RSS_PID_FILE
	COMPARE[$NAME]=$COMPARE_TO
}

in_node() {
	nsenter --net="$BENCH_NODE_NETNS" -- "$@"
}

node_links() {
	in_node ip -o link show | awk '{print $2}' | sed 's/@.*//' | sort
}

# The default freed check: host-local keeps one file per address it holds.
host_local_empty() {
	local store=$BENCH_DIR/host-local
	[[ -d $store ]] || return 0
	! find "$store" -type f ! -name lock ! -name 'last_reserved_ip.*' | grep -q .
}

start_daemon() {
	local wait_for=${C_WAIT_FOR//@BENCH_DIR@/$BENCH_DIR}
	[[ -n $C_DAEMON ]] || return 0
	# exec: the recorded PID is the daemon itself (for VmRSS and kill by PID).
	# Not through in_node: a function would run in a forked subshell, and $!
	# would be that subshell's PID.
	nsenter --net="$BENCH_NODE_NETNS" -- bash -c "exec $C_DAEMON" >"$BENCH_DIR/daemon.log" 2>&1 &
	DAEMON_PID=$!
	CLEAN_PIDS+=("$DAEMON_PID")
	[[ -n $wait_for ]] || return 0
	for _ in $(seq 100); do
		[[ -e $wait_for ]] && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$BENCH_DIR/daemon.log" >&2; die "$C_NAME: daemon exited"; }
		sleep 0.1
	done
	die "$C_NAME: daemon did not create $wait_for within 10 s"
}

stop_daemon() {
	[[ -n $DAEMON_PID ]] || return 0
	kill -TERM "$DAEMON_PID" 2>/dev/null || true
	for _ in $(seq 50); do
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$DAEMON_PID" 2>/dev/null || true
	wait "$DAEMON_PID" 2>/dev/null || true
}

rss_pid() {
	if [[ -n $DAEMON_PID ]]; then
		echo "$DAEMON_PID"
	elif [[ -n $C_RSS_PID_FILE ]]; then
		cat "${C_RSS_PID_FILE//@BENCH_DIR@/$BENCH_DIR}"
	fi
}

# make_node: a node netns and PODS pod netns, none of it timed.
make_node() {
	local tag i
	BENCH_DIR=$(mktemp -d "$TOP/$C_NAME.XXXXXX")
	tag=${BENCH_DIR##*.}
	BENCH_NODE=bench-node-$tag
	BENCH_NODE_NETNS=/var/run/netns/$BENCH_NODE
	POD_PREFIX=bench-pod-$tag-
	export BENCH_DIR BENCH_NODE BENCH_NODE_NETNS
	CLEAN_NETNS+=("$BENCH_NODE")
	for i in $(seq 0 $((PODS - 1))); do
		CLEAN_NETNS+=("$POD_PREFIX$i")
		echo "netns add $POD_PREFIX$i"
	done | { echo "netns add $BENCH_NODE" && cat; } | ip -batch - || die "creating netns failed"
	ip -n "$BENCH_NODE" link set lo up
	sed "s|@BENCH_DIR@|$BENCH_DIR|g" "$C_NETCONF" >"$BENCH_DIR/netconf.json"
}

destroy_node() {
	local i
	local -a names=("$BENCH_NODE")
	for i in $(seq 0 $((PODS - 1))); do
		names+=("$POD_PREFIX$i")
	done
	delete_netns "${names[@]}"
}

# check_freed: the plugin gave everything back after the DELs.
check_freed() {
	local ok=true
	if ! diff "$BENCH_DIR/links-before" <(node_links) >&2; then
		log "$C_NAME: links left in the node netns (diff above)"
		ok=false
	fi
	if [[ -n $C_FREED_CHECK ]]; then
		in_node bash -c "$C_FREED_CHECK" || { log "$C_NAME: FREED_CHECK failed"; ok=false; }
	elif ! host_local_empty; then
		log "$C_NAME: host-local still holds addresses"
		ok=false
	fi
	$ok
}

run_driver() {
	local -a rss=()
	local pid
	pid=$(rss_pid)
	[[ -z $pid ]] || rss=(--rss-pid "$pid")
	in_node "$DRIVER" --plugin "$C_PLUGIN" --netconf "$BENCH_DIR/netconf.json" \
		--cni-path "$C_CNI_PATH" --netns-prefix "/var/run/netns/$POD_PREFIX" \
		--pods "$PODS" "${rss[@]}" >"$BENCH_DIR/results"
}

run_conf() {
	local key value ok=true
	load_conf "$1"
	DAEMON_PID=""
	log "$C_NAME (round $ROUND/$ROUNDS): $PODS pods, plugin $C_PLUGIN"
	make_node
	if [[ -n $C_SETUP ]]; then
		in_node bash -c "$C_SETUP" || die "$C_NAME: SETUP failed"
	fi
	start_daemon
	node_links >"$BENCH_DIR/links-before"
	run_driver || ok=false
	while IFS='=' read -r key value; do
		RES[$C_NAME.$key.$ROUND]=$value
	done <"$BENCH_DIR/results"
	check_freed || ok=false
	stop_daemon
	if [[ -n $C_TEARDOWN ]]; then
		in_node bash -c "$C_TEARDOWN" || { log "$C_NAME: TEARDOWN failed"; ok=false; }
	fi
	destroy_node
	$ok || { FAILED=1 && log "$C_NAME: FAILED"; }
}

# kernel_floor: RES[floor.kernel_ms.ROUND] = what the kernel's part of an IPv4 pod network
# costs by itself, ms per pod: in a throw-away netns with forwarding on (as a node), one
# `ip -batch` that for each of PODS pods adds a veth pair, sets both ends up, puts a /32 on
# one end and a route to it on the other, plus one default route in a table of its own (the
# pod's). One process for all pods, so exec does not count; not the netns move, so it is
# slightly below any plugin's real kernel work. Deleting the links afterwards is not timed.
kernel_floor() {
	local ns=bench-floor-$$ i start end
	ip netns add "$ns" || die "kernel floor: cannot create netns"
	CLEAN_NETNS+=("$ns")
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	for ((i = 0; i < PODS; i++)); do
		local a="10.254.$((i / 250)).$((i % 250 + 1))"
		echo "link add fh$i type veth peer name fp$i"
		echo "link set fh$i up"
		echo "link set fp$i up"
		echo "addr add $a/32 dev fp$i"
		echo "route add $a/32 dev fh$i"
		echo "route add default dev fp$i table $((1000 + i))"
	done >"$TOP/floor.batch"
	start=$(date +%s%N)
	ip -n "$ns" -batch "$TOP/floor.batch" || die "kernel floor: ip -batch failed"
	end=$(date +%s%N)
	delete_netns "$ns"
	RES[floor.kernel_ms.$ROUND]=$(awk -v d=$((end - start)) -v n="$PODS" 'BEGIN { printf "%.2f", d / 1e6 / n }')
}

# plan_runs: RUN_LIST = the given configurations, plus the COMPARE_TO
# references nobody asked for (bench/configs/NAME.conf); NAMES in table order.
plan_runs() {
	local conf name ref
	for conf in "${CONFS[@]}"; do
		load_conf "$conf"
		NAMES+=("$C_NAME")
		RUN_LIST+=("$conf")
	done
	$WITH_REFERENCE || return 0
	for name in "${NAMES[@]}"; do
		ref=${COMPARE[$name]:-}
		[[ -n $ref && -z ${COMPARE[$ref]+set} ]] || continue
		[[ -r $HERE/configs/$ref.conf ]] || die "$name: no bench/configs/$ref.conf to compare to"
		load_conf "$HERE/configs/$ref.conf"
		NAMES+=("$C_NAME")
		RUN_LIST+=("$HERE/configs/$ref.conf")
	done
}

# median: of the numbers on stdin, one per line (nothing for no input).
median() {
	sort -g | awk '{v[NR] = $1} END {
		if (NR == 0) exit
		if (NR % 2) print v[(NR + 1) / 2]
		else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# summarize: RES[name.key] = median over the rounds of RES[name.key.round].
summarize() {
	local k round
	local -A keys=()
	for k in "${!RES[@]}"; do
		keys[${k%.*}]=1
	done
	for k in "${!keys[@]}"; do
		RES[$k]=$(for round in $(seq "$ROUNDS"); do
			[[ -z ${RES[$k.$round]:-} ]] || echo "${RES[$k.$round]}"
		done | median)
	done
}

# ---- the report --------------------------------------------------------------

METRICS=(add_p50_ms add_p99_ms del_p50_ms del_p99_ms burst_add_wall_ms burst_add_p99_ms
	burst_del_wall_ms gap_add_p50_ms empty_add_p50_ms empty_del_p50_ms rss_after_adds_mib
	floor_exec_p50_ms floor_burst_wall_ms)
HEAD1=("ADD" "ADD" "DEL" "DEL" "burst ADD" "burst ADD" "burst DEL" "gap ADD" "empty ADD" "empty DEL" "RSS after" "exec" "exec burst")
HEAD2=("p50" "p99" "p50" "p99" "wall" "p99" "wall" "p50" "p50" "p50" "ADDs MiB" "p50" "wall")

print_row() {
	local first=$1
	shift
	printf '%-24s' "$first"
	printf ' %10s' "$@"
	printf '\n'
}

print_table() {
	local name metric
	local -a row
	echo
	echo "CNI plugin benchmark: $PODS pods, median of $ROUNDS round(s), times in ms ($(nproc) CPUs, kernel $(uname -r)," \
		"load average $(cut -d' ' -f1-3 /proc/loadavg))"
	print_row "" "${HEAD1[@]}"
	print_row "configuration" "${HEAD2[@]}"
	for name in "${NAMES[@]}"; do
		row=()
		for metric in "${METRICS[@]}"; do
			row+=("${RES[$name.$metric]:--}")
		done
		print_row "$name" "${row[@]}"
	done
	echo "exec: the same plugin binary with CNI_COMMAND=VERSION (start-up and exit only), one at a time and $PODS at once"
	echo "kernel floor of one IPv4 pod network (veth pair, addresses, routes; one ip -batch for all pods): ${RES[floor.kernel_ms]:--} ms"
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "" || b == "" || a == "-" || b == "-" || b + 0 == 0) print "-";
		else printf "%.2f", a / b }'
}

print_ratios() {
	local name ref metric any=false
	local -a row
	for name in "${NAMES[@]}"; do
		ref=${COMPARE[$name]:-}
		[[ -n $ref && -n ${RES[$ref.add_p50_ms]:-} ]] || continue
		if ! $any; then
			echo
			echo "ratios (configuration / reference; below 1.00 is faster or smaller)"
			print_row "" "${HEAD1[@]}"
			print_row "configuration / ref" "${HEAD2[@]}"
			any=true
		fi
		row=()
		for metric in "${METRICS[@]}"; do
			row+=("$(ratio "${RES[$name.$metric]:-}" "${RES[$ref.$metric]:-}")")
		done
		print_row "$name / $ref" "${row[@]}"
	done
}

# goal LABEL VALUE OP LIMIT: one line "met" or "MISSED" (awk compares the numbers).
goal() {
	awk -v label="$1" -v v="$2" -v op="$3" -v limit="$4" 'BEGIN {
		if (v == "" || v == "-") { printf "  %-58s %8s  %s\n", label, "-", "no figure"; exit }
		ok = (op == "<=") ? (v + 0 <= limit + 0) : (v + 0 < limit + 0)
		printf "  %-58s %8s  %s\n", label, v, ok ? "met" : "MISSED" }'
}

# print_goals: the performance goals of a configuration against its reference of this run.
print_goals() {
	local name ref floor
	for name in "${NAMES[@]}"; do
		ref=${COMPARE[$name]:-}
		[[ -n $ref && -n ${RES[$ref.add_p50_ms]:-} && $name == coil* ]] || continue
		echo
		echo "goals of $name (against $ref of this run)"
		goal "ADD p50 / reference ADD p50 <= 0.20 (5x faster)" \
			"$(ratio "${RES[$name.add_p50_ms]:-}" "${RES[$ref.add_p50_ms]:-}")" "<=" 0.20
		goal "DEL p50 / reference DEL p50 <= 0.10 (10x faster)" \
			"$(ratio "${RES[$name.del_p50_ms]:-}" "${RES[$ref.del_p50_ms]:-}")" "<=" 0.10
		goal "$PODS DELs at once, wall ms < 80" "${RES[$name.burst_del_wall_ms]:-}" "<" 80
		goal "ADD p50 on a node that empties / on a warm one (same pauses) <= 1.20" \
			"$(ratio "${RES[$name.empty_add_p50_ms]:-}" "${RES[$name.gap_add_p50_ms]:-}")" "<=" 1.20
		floor=$(awk -v e="${RES[$name.floor_exec_p50_ms]:-}" -v k="${RES[floor.kernel_ms]:-}" \
			'BEGIN { if (e != "" && k != "") printf "%.2f", e + k }')
		goal "ADD p50 / floor ($floor ms: exec p50 + kernel floor) <= 1.20" \
			"$(ratio "${RES[$name.add_p50_ms]:-}" "$floor")" "<=" 1.20
		echo "  (for reading: $PODS DELs at once / $PODS no-op execs at once:" \
			"$(ratio "${RES[$name.burst_del_wall_ms]:-}" "${RES[$name.floor_burst_wall_ms]:-}"))"
	done
}

main() {
	local conf
	while (($#)); do
		case $1 in
		--pods) PODS=$2 && shift ;;
		--driver) DRIVER=$2 && shift ;;
		--rounds) ROUNDS=$2 && shift ;;
		--no-reference) WITH_REFERENCE=false ;;
		-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' && exit 0 ;;
		-*) die "unknown option $1" ;;
		*) CONFS+=("$1") ;;
		esac
		shift
	done
	[[ $PODS =~ ^[1-9][0-9]*$ && $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "--pods and --rounds take a positive number"
	((${#CONFS[@]})) || CONFS=("$HERE/configs/coil-v4.conf" "$HERE/configs/coil-dual.conf")
	TOP=$(mktemp -d /tmp/cni-bench.XXXXXX)
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	find_driver
	plan_runs
	for ROUND in $(seq "$ROUNDS"); do
		for conf in "${RUN_LIST[@]}"; do
			run_conf "$conf"
		done
		kernel_floor
	done
	summarize
	print_table
	print_ratios
	print_goals
	if ((FAILED)); then
		echo "cni-bench: some configuration failed (see above)"
		exit 1
	fi
}

main "$@"
