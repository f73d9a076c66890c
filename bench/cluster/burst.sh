#!/bin/bash
# Burst of pod starts on a fresh node in Kubernetes mode: PODS CNI ADDs at once against
# `coil daemon` whose node has no block yet, so the blocks come from `coil ipam-controller`
# through BlockRequests; then PODS DELs at once, after which every block must be released.
#
#   bench/cluster/burst.sh [--pods N]          (root; COIL= the coil binary, default
#                                               build/cmd/coil)
#
# Everything runs in one throw-away node netns: the test API server (127.0.0.1 there) with
# deploy/crd, a Node, a Namespace, the AddressPool `default` (dual stack, blockSizeBits 5)
# and the Pod objects; one ipam-controller (fast leader timings); coil daemon with
# COIL_NODE_NAME and --kubeconfig. Each pod's netns is made beforehand (not timed). Printed:
# the wall time from the first ADD's start to the last ADD's end, p50/p99 per ADD, the blocks
# created, the daemon's VmRSS, the same for the DELs, and the blocks left at the end.
set -euo pipefail

# shellcheck source=bench/cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PODS=100
NODE_NAME=bench-node
POD_NAMESPACE=bench
BLOCK_BITS=5
TARGET_MS=2000
TAG=cb$$
NODE_NS=$TAG-node
POD_NS_PREFIX=$TAG-pod-

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

# result COMMAND KEY: one figure of a burst.
result() {
	sed -n "s/^$2=//p" "$WORK/$1.out"
}

node_blocks() {
	api_get "$NODE_NS" "$GROUP_PATH/addressblocks?labelSelector=coil.cybozu.com/node=$NODE_NAME" |
		jq '.items | length'
}

host_veths() {
	ip -n "$NODE_NS" -o link show type veth | wc -l
}

no_blocks_left() {
	[[ $(node_blocks) == 0 ]]
}

build_driver() {
	cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -o "$WORK/burst-driver" \
		"$BENCH_DIR/burst_driver.c" "$REPO/bench/cni_call.c" "$REPO/bench/latency.c" -lm ||
		die "building the burst driver failed"
}

make_namespaces() {
	local -a names=("$NODE_NS")
	local i
	for ((i = 0; i < PODS; i++)); do
		names+=("$POD_NS_PREFIX$i")
	done
	make_netns "${names[@]}"
}

setup_cluster() {
	start_apiserver "$NODE_NS"
	in_ns "$NODE_NS" "$PYTHON" "$BENCH_DIR/kubeobj.py" "$API_URL" burst --node "$NODE_NAME" \
		--node-ipv4 10.20.30.41 --node-ipv6 fd10::41 --namespace "$POD_NAMESPACE" \
		--pods "$PODS" --pod-prefix pod- --ipv4 10.100.0.0/16 --ipv6 fd00:100::/112 \
		--block-bits "$BLOCK_BITS" || die "creating the objects failed"
	start_controller "$NODE_NS"
	wait_until 20 "coil ipam-controller to take the lease" controller_leads "$NODE_NS"
	write_kubeconfig "$WORK/kubeconfig-daemon"
	start_bg DAEMON_PID "$NODE_NS" coild COIL_NODE_NAME="$NODE_NAME" -- \
		"$COIL" daemon --kubeconfig "$WORK/kubeconfig-daemon" --socket "$WORK/coild.sock" \
		--state-dir "$WORK/state" --metrics-addr 127.0.0.1:9384 --health-addr 127.0.0.1:9385 \
		--enable-egress=false --empty-block-grace 0 # the run checks the DELs release the blocks
	wait_until 20 "coil daemon to start" daemon_started
	printf '{"cniVersion":"1.0.0","name":"k8s-pod-network","type":"coil","socket":"%s"}\n' \
		"$WORK/coild.sock" >"$WORK/netconf.json"
}

daemon_started() {
	alive "$DAEMON_PID" || die "coil daemon exited"
	grep -qs '"coild started"' "$WORK/coild.log"
}

verdict() {
	awk -v ms="$1" -v target="$TARGET_MS" 'BEGIN {print (ms < target) ? "met" : "NOT met"}'
}

main() {
	local expected_blocks blocks_after_add veths rss released_ms t0
	while (($#)); do
		case $1 in
		--pods) PODS=${2:?--pods needs a number} && shift ;;
		-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' && exit 0 ;;
		*) die "unknown argument $1 (see --help)" ;;
		esac
		shift
	done
	[[ $PODS =~ ^[1-9][0-9]*$ ]] || die "--pods takes a positive number"
	init_bench
	require_tools cc
	build_driver
	log "setting up: $PODS pod netns, API server, ipam-controller, coil daemon"
	make_namespaces
	setup_cluster

	log "burst of $PODS ADDs"
	run_driver ADD
	blocks_after_add=$(node_blocks)
	veths=$(host_veths)
	rss=$(proc_kib "$DAEMON_PID" VmRSS)
	expected_blocks=$(((PODS + (1 << BLOCK_BITS) - 1) >> BLOCK_BITS))
	((veths == PODS)) || die "$veths host veths after $PODS ADDs"

	log "burst of $PODS DELs"
	run_driver DEL
	t0=$(now_ms)
	wait_until 30 "every block to be released" no_blocks_left
	released_ms=$(($(now_ms) - t0))
	veths=$(host_veths)
	((veths == 0)) || die "$veths host veths left after the DELs"
	check_log_clean coild
	check_log_clean controller
	alive "$DAEMON_PID" || die "coil daemon exited during the run"

	echo
	echo "coil cluster burst: $PODS pods on one fresh node, Kubernetes mode (test API server)," \
		"$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
	printf '  %-34s %10s ms   (target: %d pods in under %d s: %s)\n' "ADD burst wall time" \
		"$(result ADD wall_ms)" "$PODS" $((TARGET_MS / 1000)) "$(verdict "$(result ADD wall_ms)")"
	printf '  %-34s %10s ms\n' "ADD p50" "$(result ADD p50_ms)" "ADD p99" "$(result ADD p99_ms)"
	printf '  %-34s %10s      (expected %d = %d addresses / %d per block)\n' \
		"blocks created" "$blocks_after_add" "$expected_blocks" "$PODS" $((1 << BLOCK_BITS))
	printf '  %-34s %10s MiB\n' "coild VmRSS after the ADDs" "$(mib "$rss")"
	printf '  %-34s %10s ms\n' "DEL burst wall time" "$(result DEL wall_ms)" \
		"DEL p50" "$(result DEL p50_ms)" "DEL p99" "$(result DEL p99_ms)"
	printf '  %-34s %10s      (all released %d ms after the last DEL)\n' \
		"blocks left after the DELs" "$(node_blocks)" "$released_ms"
	((blocks_after_add == expected_blocks)) ||
		die "$blocks_after_add blocks were created, expected $expected_blocks"
}

main "$@"
