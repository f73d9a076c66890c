#!/bin/bash
# The kernel is the truth at startup: allocation records whose attachment has no kernel
# object (pods deleted while the daemon was down, an ADD killed before its veth existed)
# are released, and records of another node (a state directory carried over) are never
# applied, so their addresses serve new pods at once. A daemon started with nothing
# changed writes nothing to its state directory.
source "$(dirname "$0")/lib.sh"
init_test
setup_node

add_pod s1
check_eq "ADD s1 [$OUT]" 0 "$RC"
S1=$OUT
add_pod s2
check_eq "ADD s2 [$OUT]" 0 "$RC"
S2=$OUT
this_node=$(jq -r .node "$STATE"/allocations/s1*)
check_eq "records name this node" "$(hostname)" "$this_node"

# --- a restart with nothing changed writes nothing -------------------------------------
stop_daemon
before=$(cd "$STATE" && find . -type f -printf '%p %i %T@\n' | sort)
start_daemon || die "daemon did not restart"
check_eq "restart with nothing changed: no file written" "$before" \
	"$(cd "$STATE" && find . -type f -printf '%p %i %T@\n' | sort)"

# --- while the daemon is down: s2 goes away, a foreign and a stale record appear ------
stop_daemon
del_netns "$(pod_ns s2)" # its veth goes with the netns
gone() { [ -z "$(host_veth_of s2)" ]; }
check "s2's veth is gone with its netns" wait_for 5 gone
record() { # record ID OFFSET NODE-MEMBER: a record of block default-0 at OFFSET
	printf '{"container_id":"%s","ifname":"eth0","pool":"default","block":"default-0",'`
		`'"offset":%d,"ipv4":"10.100.0.%d","ipv6":"fd00:100::%x"%s}' "$1" "$2" "$2" "$2" "$3" \
		>"$STATE/allocations/$1%3Aeth0"
}
record foreign 5 ',"node":"another-node"'
record ghost 6 '' # an older record without node, and without kernel object
start_daemon || die "daemon did not start with stale records"
check_eq "only the live pod's record is left" s1 "$(sorted_allocation_ids)"
check "another node's record is discarded as such" \
	grep -q '"discarding the allocation record of another node"' "$WORK/coild.log"
check "stale records are released" grep -q \
	'"releasing the address of an attachment the kernel does not have".*"container_id":"s2"' \
	"$WORK/coild.log"
check "the ghost record is released" grep -q \
	'"releasing the address of an attachment the kernel does not have".*"container_id":"ghost"' \
	"$WORK/coild.log"
check_not "the foreign record is never applied" grep -q \
	'"releasing the address of an attachment the kernel does not have".*"container_id":"foreign"' \
	"$WORK/coild.log"

# The freed addresses (s2's, 10.100.0.5 and .6) serve the next pods of the same block.
NEW=()
for i in $(seq 8); do
	add_pod "n$i"
	check_eq "ADD n$i [$OUT]" 0 "$RC"
	NEW+=("n$i")
done
got=$(for p in "${NEW[@]}"; do pod_addresses "$p"; done | awk '{print $1}' | sort)
for ip in $(ips_of "$S2" 4) 10.100.0.5 10.100.0.6; do
	check "address $ip of a stale record serves a new pod" grep -qx "$ip" <<<"$got"
done
check_eq "no new block was needed" 1 "$(state_blocks)"
check_eq "s1 keeps its addresses" "$( (ips_of "$S1" 4; ips_of "$S1" 6) | sort | paste -sd,)" \
	"$(pod_addresses s1 | awk '{print $1}' | sort | paste -sd,)"
check_no_double_use "after the restart"

for p in s1 "${NEW[@]}"; do check "DEL $p" del_pod "$p" >/dev/null; done
check_node_empty "after DEL of every pod"
finish
