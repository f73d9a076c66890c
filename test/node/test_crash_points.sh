#!/bin/bash
# Crash consistency at every named step: the daemon kills itself (SIGKILL) at one fault
# point (COIL_FAULT_POINT, compiled into test builds), is restarted, and the runtime does
# what it does next: DEL, or ADD again and then CNI GC. Afterwards no address is held
# twice, and no veth, table-116 route, allocation record or block is left that no live pod
# owns. A bystander pod keeps its addresses and connectivity throughout.
source "$(dirname "$0")/lib.sh"
init_test
setup_node

ADD_POINTS=(add:allocated add:veth-created add:aliased add:pod-addresses add:host-routes
	add:set-up)
DEL_POINTS=(del:retired)
# The background reap after a DEL that answered: retired veths deleted, then their addresses
# freed (the last DEL of a block also releases the block).
REAP_POINTS=(reap:deleting reap:links-deleted del:block-released del:record-removed)

add_pod keep
check_eq "bystander ADD [$OUT]" 0 "$RC"
KEEP_RESULT=$OUT
LIVE=(keep) # pods that must exist, all in the default (dual-stack) pool

restart_with_fault() { # restart_with_fault POINT
	stop_daemon
	COIL_FAULT_POINT=$1 start_daemon || die "daemon did not start with fault point $1"
}
restart() { start_daemon || die "daemon did not restart after $1"; }

ids_of_aliased() { aliased_veths | awk '{split($2, a, ":"); print a[3]}' | sort | paste -sd,; }
# check_only_live LABEL: the kernel and the state dir hold exactly the LIVE pods.
check_only_live() {
	local want n=${#LIVE[@]}
	want=$(printf '%s\n' "${LIVE[@]}" | sort | paste -sd,)
	check_eq "$1: aliased veths" "$want" "$(ids_of_aliased)"
	check_eq "$1: no other veth" "$n" "$(all_veths | wc -l)"
	check_eq "$1: allocation records" "$want" "$(settled_allocation_ids "$want")"
	check_eq "$1: table 116 IPv4 routes" "$n" "$(table_routes 4 116 | wc -l)"
	check_eq "$1: table 116 IPv6 routes" "$n" "$(table_routes 6 116 | wc -l)"
	check_eq "$1: blocks" 1 "$(state_blocks)"
	check_no_double_use "$1"
	want=$( (ips_of "$KEEP_RESULT" 4; ips_of "$KEEP_RESULT" 6) | sort | paste -sd,)
	check_eq "$1: bystander keeps its addresses" "$want" \
		"$(pod_addresses keep | awk '{print $1}' | sort | paste -sd,)"
	check "$1: bystander pings the node" in_pod keep ping -c1 -W2 -q "$NODE_IPV4" >/dev/null
}
no_eth0() {
	wait_reaped
	! ip -n "$(pod_ns "$1")" link show dev eth0 >/dev/null 2>&1
}

i=0
for point in "${ADD_POINTS[@]}"; do
	i=$((i + 1))
	# --- killed in ADD, then DEL ----------------------------------------------------------
	restart_with_fault "$point"
	add_pod "d$i"
	check_not "$point: the interrupted ADD fails [$OUT]" [ "$RC" == 0 ]
	expect_daemon_killed "$point (ADD, then DEL)"
	restart "$point"
	check "$point: DEL after the crash" del_pod "d$i" >/dev/null
	check "$point: DEL leaves no eth0 in the pod" no_eth0 "d$i"
	check_only_live "$point, DEL"
	del_netns "$(pod_ns "d$i")"

	# --- killed in ADD, then ADD again and GC ----------------------------------------------
	restart_with_fault "$point"
	add_pod "a$i"
	check_not "$point: the interrupted ADD fails [$OUT]" [ "$RC" == 0 ]
	expect_daemon_killed "$point (ADD, then ADD again)"
	restart "$point"
	OUT=$(cni ADD "a$i" "$(pod_ns "a$i")")
	check_eq "$point: ADD again [$OUT]" 0 "$?"
	want=$( (ips_of "$OUT" 4; ips_of "$OUT" 6) | sort | paste -sd,)
	check_eq "$point: the pod holds the addresses of its result" "$want" \
		"$(pod_addresses "a$i" | awk '{print $1}' | sort | paste -sd,)"
	LIVE+=("a$i")
	check_eq "$point: GC" "0:" "$(o=$(gc_cni "${LIVE[@]}"); echo "$?:$o")"
	check_only_live "$point, ADD again + GC"
	check "$point: DEL of the re-added pod" del_pod "a$i" >/dev/null
	unset 'LIVE[-1]'
	del_netns "$(pod_ns "a$i")"
	check_only_live "$point, final DEL"
done

# --- killed in DEL, then DEL again ------------------------------------------------------
# The pods are in pool v4 (blocks of 4 addresses) of their own, so that each DEL empties
# and releases a block.
# v4_pod_armed POINT: pod v$i added in pool v4 by a fresh daemon, then the daemon restarted
# with POINT armed.
v4_pod_armed() {
	stop_daemon
	restart "$1"
	add_pod "v$i" ns-v4
	check_eq "$1: ADD in pool v4 [$OUT]" 0 "$RC"
	restart_with_fault "$1"
}
# next_v4_pod POINT: the released block and address serve the next pod of the pool; then
# both pods' netns go.
next_v4_pod() {
	add_pod "w$i" ns-v4
	check_eq "$1: next ADD in pool v4 [$OUT]" 0 "$RC"
	check_no_double_use "$1, next ADD"
	check "$1: DEL of the next pod" del_pod "w$i" >/dev/null
	del_netns "$(pod_ns "v$i")"
	del_netns "$(pod_ns "w$i")"
}
for point in "${DEL_POINTS[@]}"; do
	i=$((i + 1))
	v4_pod_armed "$point"
	out=$(del_pod "v$i")
	check_not "$point: the interrupted DEL fails [$out]" [ -z "$(err_code "$out")" ]
	expect_daemon_killed "$point (DEL, then DEL again)"
	restart "$point"
	check "$point: DEL again" del_pod "v$i" >/dev/null
	check "$point: no eth0 left in the pod" no_eth0 "v$i"
	check_only_live "$point, DEL again"
	next_v4_pod "$point"
done
# --- killed in the background reap of a DEL that answered, then restarted ----------------
for point in "${REAP_POINTS[@]}"; do
	i=$((i + 1))
	v4_pod_armed "$point"
	check "$point: the DEL answers before the reap" del_pod "v$i" >/dev/null
	check_eq "$point: the DEL took the pod's IPv4 route" "${#LIVE[@]}" \
		"$(table_routes 4 116 | wc -l)"
	expect_daemon_killed "$point (reap after DEL)"
	restart "$point"
	check "$point: no eth0 left in the pod" no_eth0 "v$i"
	check_only_live "$point, restarted"
	check "$point: DEL again" del_pod "v$i" >/dev/null
	next_v4_pod "$point"
done
check_eq "GC at the end" "0:" "$(o=$(gc_cni keep); echo "$?:$o")"
check_only_live "at the end"
check "DEL of the bystander" del_pod keep >/dev/null
check_node_empty "after the last DEL"
finish
