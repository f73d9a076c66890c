#!/bin/bash
# DEL off the kernel's slow path: a DEL answers once the pod's host veth is retired (down,
# its routes gone, in the reap link group) and the daemon deletes retired veths in the
# background, freeing their addresses only then. While a reap is pending, CHECK, DEL, a
# retried ADD of the same container, CNI GC and an exhausted pool behave as if the pod were
# gone. Then the grace period of an emptied block (--empty-block-grace).
source "$(dirname "$0")/lib.sh"
init_test
setup_node

veth_of() { host_veth_of "$1"; }
retired_alias_of() { # the alias of the retired link named NAME, "" if none
	ip -n "$NODE" -j link show group "$COIL_REAP_GROUP" |
		jq -r --arg n "$1" '.[] | select(.ifname == $n) | .ifalias // ""'
}

# --- what a DEL leaves at once, and what the reap leaves ----------------------------------
add_pod p1
check_eq "ADD p1 [$OUT]" 0 "$RC"
veth=$(veth_of p1)
check "p1 has a host veth" [ -n "$veth" ]
# Right after the DEL the veth is retired, or already reaped (the reap follows within
# milliseconds): either way nothing of the pod is routed or found any more.
check "DEL p1" del_pod p1 >/dev/null
check_eq "DEL p1: no table 116 IPv4 route" "" "$(table_routes 4 116)"
check_eq "DEL p1: no table 116 IPv6 route" "" "$(table_routes 6 116)"
check_eq "DEL p1: no aliased veth" "" "$(aliased_veths)"
out=$(cni CHECK p1 "$(pod_ns p1)")
check_not "CHECK after DEL fails [$out]" [ -z "$(err_code "$out")" ]
left=$(ip -n "$NODE" -j link show dev "$veth" 2>/dev/null | jq -r '.[0] | "\(.operstate) \(.group) \(.ifalias)"')
case $left in
"") pass "DEL p1: the veth is already reaped" ;;
*) check_eq "DEL p1: the veth left is retired" "DOWN $COIL_REAP_GROUP COILREAP:p1:eth0" "$left" ;;
esac
check "DEL p1 again succeeds" del_pod p1 >/dev/null
check "the reap happens" wait_reaped
check_eq "after the reap: no veth" "" "$(all_veths)"
check_eq "after the reap: no eth0 in the pod" "" \
	"$(ip -n "$(pod_ns p1)" -j link show type veth | jq -r '.[].ifname')"
check_eq "after the reap: no record" 0 "$(settled 0 allocation_count)"

# --- ADD of the same container right after its DEL ----------------------------------------
add_pod p2
check_eq "ADD p2 [$OUT]" 0 "$RC"
for round in 1 2 3; do
	check "p2 round $round: DEL" del_pod p2 >/dev/null
	OUT=$(cni ADD p2 "$(pod_ns p2)")
	check_eq "p2 round $round: ADD at once after the DEL [$OUT]" 0 "$?"
	want=$( (ips_of "$OUT" 4; ips_of "$OUT" 6) | sort | paste -sd,)
	check_eq "p2 round $round: the pod holds its result's addresses" "$want" \
		"$(ip -n "$(pod_ns p2)" -j addr show dev eth0 | jq -r '.[].addr_info[] | select(.scope=="global") | .local' | sort | paste -sd,)"
	check "p2 round $round: CHECK" cni CHECK p2 "$(pod_ns p2)" >/dev/null
done
check_eq "p2: one aliased veth" 1 "$(aliased_veths | wc -l)"
check_eq "p2: one veth" 1 "$(all_veths | wc -l)"
check_eq "p2: one record" 1 "$(allocation_count)"
check_no_double_use "p2"

# --- CNI GC while a reap may be pending ---------------------------------------------------
add_pod p3
check_eq "ADD p3 [$OUT]" 0 "$RC"
check "DEL p3" del_pod p3 >/dev/null
check_eq "GC keeping p2" "0:" "$(o=$(gc_cni p2); echo "$?:$o")"
check_eq "after GC: records of p2 only" "p2" "$(settled_allocation_ids p2)"
check_eq "after GC: veths of p2 only" 1 "$(all_veths | wc -l)"
check "DEL p2" del_pod p2 >/dev/null
check_node_empty "after DEL p2"

# --- 30 DELs at once, then the same containers again -------------------------------------
PODS=()
for i in $(seq 30); do
	PODS+=("b$i")
	make_netns "$(pod_ns "b$i")"
done
spawn_cni ADD "${PODS[@]}"
wait_jobs
spawn_cni DEL "${PODS[@]}"
wait_jobs
ok=0
for p in "${PODS[@]}"; do spawned_ok DEL "$p" && ok=$((ok + 1)); done
check_eq "30 DELs at once succeed" 30 "$ok"
check_eq "30 DELs: no table 116 IPv4 route at once" "" "$(table_routes 4 116)"
check "30 DELs: reaped" wait_reaped
check_node_empty "after 30 DELs"

# --- the grace period of an emptied block -------------------------------------------------
stop_daemon
EMPTY_BLOCK_GRACE=2s start_daemon --addressblock-gc-interval 200ms ||
	die "daemon did not start with a grace period"
add_pod g1
check_eq "grace: ADD g1 [$OUT]" 0 "$RC"
check "grace: DEL g1" del_pod g1 >/dev/null
check_eq "grace: the emptied block stays" 1 "$(state_blocks)"
add_pod g2
check_eq "grace: ADD g2 into the kept block [$OUT]" 0 "$RC"
check_eq "grace: still one block" 1 "$(state_blocks)"
check "grace: DEL g2" del_pod g2 >/dev/null
blocks_gone() { [ "$(state_blocks)" == 0 ]; }
check "grace: the block is released after the grace period" wait_for 10 blocks_gone
check_node_empty "after the grace period"
finish
