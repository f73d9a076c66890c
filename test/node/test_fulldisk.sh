#!/bin/bash
# A full state directory (a small tmpfs, filled up): the daemon starts, CHECK, STATUS and
# DEL work (also a DEL that empties a block, whose release needs a write: the block stays
# owned until a GC can release it), an ADD that needs a new record fails with code 11 and
# says why, and once space returns the ADD succeeds and nothing is held twice.
source "$(dirname "$0")/lib.sh"
init_test mount umount dd
make_netns "$NODE"
mkdir -p "$STATE"
mount -t tmpfs -o size=256k,mode=0700 coil-fulldisk "$STATE" || die "cannot mount a tmpfs"
MOUNTS_MADE+=("$STATE")
start_daemon || die "daemon did not start"

add_pod f1
check_eq "ADD f1 [$OUT]" 0 "$RC"
F1=$OUT
add_pod f2 ns-v4 # pool v4: a block of its own, released by its DEL
check_eq "ADD f2 [$OUT]" 0 "$RC"
check_eq "two blocks" 2 "$(state_blocks)"

FILLS=0
fill() { # every page a DEL frees (a removed record) is taken again by the next fill
	FILLS=$((FILLS + 1))
	dd if=/dev/zero of="$STATE/filler$FILLS" bs=4k >/dev/null 2>&1
	dd if=/dev/zero of="$STATE/filler$FILLS.tail" bs=1 >/dev/null 2>&1
}
full() { ! (echo x >"$STATE/probe") 2>/dev/null; }

# --- start on a full disk --------------------------------------------------------------
stop_daemon
fill
check "the state directory is full" full
rm -f "$STATE/probe"
start_daemon || die "daemon did not start on a full state directory"
check "CHECK f1 on a full disk" cni CHECK f1 "$(pod_ns f1)"
check "STATUS on a full disk" cni STATUS "" "" default eth0 "$(netconf 1.1.0)"
check "DEL f2 (empties block v4-0) on a full disk" del_pod f2 >/dev/null
# The address, and with it the block, is freed by the background reap after the DEL.
release_failed() { grep -q '"failed to release an empty block; the GC retries"' "$WORK/coild.log"; }
check "DEL f2: the block release could not be written and is left to the GC" \
	wait_for 10 release_failed
check "DEL f2 again" del_pod f2 >/dev/null
check_eq "f2's veth is gone" "" "$(host_veth_of f2)"
check_eq "f2's record is gone" f1 "$(settled_allocation_ids f1)"

fill
check "the state directory is full again" full
rm -f "$STATE/probe"
make_netns "$(pod_ns f3)"
OUT=$(cni ADD f3 "$(pod_ns f3)")
check_not "ADD f3 on a full disk fails" [ $? == 0 ]
check_eq "ADD f3: code 11 (try again later)" 11 "$(err_code "$OUT")"
check_eq "ADD f3: message" "failed to allocate address" "$(err_msg "$OUT")"
check "ADD f3: details name the cause [$OUT]" grep -q "No space left on device" <<<"$OUT"
check_eq "ADD f3: no veth" "" "$(host_veth_of f3)"
check_eq "ADD f3: no record" f1 "$(allocation_ids | paste -sd,)"
check_eq "ADD f3: one veth on the node (f1's)" 1 "$(all_veths | wc -l)"

# --- space returns -----------------------------------------------------------------------
rm -f "$STATE"/filler*
OUT=$(cni ADD f3 "$(pod_ns f3)")
check_eq "ADD f3 once space returned [$OUT]" 0 "$?"
check_no_double_use "after space returned"
check_eq "f1 keeps its addresses" "$( (ips_of "$F1" 4; ips_of "$F1" 6) | sort | paste -sd,)" \
	"$(pod_addresses f1 | awk '{print $1}' | sort | paste -sd,)"
check_eq "GC (1.1.0)" "0:" "$(o=$(gc_cni f1 f3); echo "$?:$o")"
check_eq "GC released the empty block v4-0" "default-0" \
	"$(jq -r '[.blocks[].name] | sort | join(" ")' "$STATE/blocks.json")"
for p in f1 f3; do check "DEL $p" del_pod "$p" >/dev/null; done
check_node_empty "after DEL of every pod"
finish
