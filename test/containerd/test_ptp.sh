#!/bin/bash
# Pod-network scenario through a real containerd (CRI), for any CNI plugin.
#
# Creates N pod sandboxes concurrently through CRI RunPodSandbox, checks each got
# an address of its own, pings every pod from every other pod (from inside the
# sandbox netns), then stops and removes them all and checks that everything
# was given back: no extra links or routes in the node netns, no sandbox netns,
# nothing held in the IPAM store.
#
# Default: Debian's ptp + host-local (IPv4).  Usage:
#   test/containerd/test_ptp.sh [--pods N] [--serial]
#       [--conflist FILE] [--plugin [NAME=]PATH ...]
#       [--before CMD] [--daemon CMD] [--wait-for PATH] [--after CMD]
#       [--freed-check CMD]
# --conflist/--plugin/--before/--daemon/--wait-for/--after go to rig_start (see
# rig.sh).  Giving any --plugin replaces the default plugin list.
# --freed-check CMD: bash command, run in the node netns after all pods are
# removed, that must succeed when the plugin's address store is empty (default:
# host-local's store under $RIG_DIR/host-local holds no address).
#
# Example with coil (its daemon must run in the node netns before containerd):
#   test/containerd/test_ptp.sh --conflist test/containerd/conf/coil.conflist \
#     --plugin build/cmd/coil \
#     --daemon 'build/cmd/coil daemon --standalone --config CFG
#               --state-dir $RIG_DIR/coild --socket $RIG_DIR/coild.sock' \
#     --wait-for '@RIG_DIR@/coild.sock' --freed-check '...'
# (hooks and --daemon are bash commands that see $RIG_DIR: single-quote them.)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=rig.sh
source "$HERE/rig.sh"

PODS=10
SERIAL=false
CONFLIST=$HERE/conf/ptp-host-local.conflist
FREED_CHECK=""
declare -a PLUGINS=() RIG_OPTS=()
PASSED=0

while (($#)); do
	case $1 in
	--pods) PODS=$2 ;;
	--serial) SERIAL=true && shift && continue ;;
	--conflist) CONFLIST=$2 ;;
	--plugin) PLUGINS+=(--plugin "$2") ;;
	--before | --daemon | --after | --wait-for) RIG_OPTS+=("$1" "$2") ;;
	--freed-check) FREED_CHECK=$2 ;;
	*) rig_die "unknown option $1 (see the header of $0)" ;;
	esac
	shift 2
done
if ((${#PLUGINS[@]} == 0)); then
	PLUGINS=(--plugin /usr/lib/cni/ptp --plugin /usr/lib/cni/host-local)
fi

say() {
	printf '%s %s\n' "$(date +%T.%N | cut -c1-12)" "$*"
}

pass() {
	PASSED=$((PASSED + 1))
	say "ok: $*"
}

fail() {
	say "FAIL: $*"
	echo "test_ptp: $PASSED passed, 1 failed"
	exit 1
}

# Links and routes of the node netns, to compare before and after the pods.
node_state() {
	{
		rig_node ip -o link show | awk '{print $2}' | sed 's/@.*//'
		rig_node ip route show table all
		rig_node ip -6 route show table all
	} | sort
}

default_freed_check() {
	local store=$RIG_DIR/host-local
	[[ -d $store ]] || return 0
	# host-local keeps one file per address, named by the address.
	! find "$store" -type f ! -name lock ! -name 'last_reserved_ip.*' | grep .
}

# wait_pids PID...: wait for each, failing if any failed.  (Not `wait` alone:
# containerd is a background job of ours too.)
wait_pids() {
	local pid failed=0
	for pid in "$@"; do
		wait "$pid" || failed=1
	done
	return "$failed"
}

create_pods() {
	local i
	local -a pids=()
	for i in $(seq "$PODS"); do
		if $SERIAL; then
			rig_cri run "pod-$i" test-ns >"$WORK/pod-$i.run"
		else
			rig_cri run "pod-$i" test-ns >"$WORK/pod-$i.run" &
			pids+=($!)
		fi
	done
	wait_pids "${pids[@]}"
}

collect_pods() {
	local i id ips
	: >"$WORK/all-ips"
	for i in $(seq "$PODS"); do
		read -r id ips <"$WORK/pod-$i.run" || fail "pod-$i: no output from RunPodSandbox"
		[[ -n $ips ]] || fail "pod-$i ($id): no address in PodSandboxStatus"
		ID[i]=$id
		IPS[i]=$ips
		NETNS[i]=$(rig_cri netns "$id")
		[[ -e ${NETNS[i]} ]] || fail "pod-$i: netns ${NETNS[i]} missing"
		tr ' ' '\n' <<<"$ips" >>"$WORK/all-ips"
		say "pod-$i ${id:0:12} $ips ${NETNS[i]}"
	done
}

ping_all() {
	local i j ip count=0
	for i in $(seq "$PODS"); do
		for j in $(seq "$PODS"); do
			((i != j)) || continue
			for ip in ${IPS[j]}; do
				nsenter --net="${NETNS[i]}" -- ping -q -n -c 1 -w 5 "$ip" >/dev/null ||
					fail "pod-$i cannot ping pod-$j at $ip"
				count=$((count + 1))
			done
		done
	done
	pass "$count pings between $PODS pods"
}

remove_pods() {
	local i
	local -a pids=()
	for i in $(seq "$PODS"); do
		{ rig_cri stop "${ID[i]}" && rig_cri rm "${ID[i]}"; } &
		pids+=($!)
	done
	wait_pids "${pids[@]}" || fail "StopPodSandbox/RemovePodSandbox failed"
}

main() {
	local start=$SECONDS dup
	declare -ga ID=() IPS=() NETNS=()
	rig_start --conflist "$CONFLIST" "${PLUGINS[@]}" "${RIG_OPTS[@]}"
	WORK=$RIG_DIR/test
	mkdir -p "$WORK"
	node_state >"$WORK/node-before"
	pass "rig up ($((SECONDS - start)) s)"

	create_pods || fail "RunPodSandbox failed"
	collect_pods
	pass "$PODS sandboxes running, each with an address"
	dup=$(sort "$WORK/all-ips" | uniq -d)
	[[ -z $dup ]] || fail "addresses given twice: $dup"
	pass "all $(wc -l <"$WORK/all-ips") addresses distinct"

	ping_all

	remove_pods
	[[ -z $(rig_cri ls) ]] || fail "sandboxes still listed after removal"
	for i in $(seq "$PODS"); do
		[[ ! -e ${NETNS[i]} ]] || fail "netns ${NETNS[i]} of pod-$i still there"
	done
	# A plugin may delete the host end a moment after its DEL answered (coil's reaper does).
	for _ in $(seq 50); do
		node_state >"$WORK/node-after"
		cmp -s "$WORK/node-before" "$WORK/node-after" && break
		sleep 0.1
	done
	diff "$WORK/node-before" "$WORK/node-after" >&2 ||
		fail "links or routes left in the node netns (diff above)"
	pass "stop + remove: no sandbox, netns, link or route left"
	if [[ -n $FREED_CHECK ]]; then
		rig_node bash -c "$FREED_CHECK" || fail "freed check failed: $FREED_CHECK"
	else
		default_freed_check || fail "host-local still holds the addresses above"
	fi
	pass "IPAM store empty"

	rig_stop || fail "the rig's cleanup found leftovers"
	pass "rig cleaned up, nothing left behind"
	say "done in $((SECONDS - start)) s"
	echo "test_ptp: $PASSED passed, 0 failed"
}

main
