#!/bin/bash
# coil doctor on a standalone node: healthy with a few pods (exit 0, also while the daemon
# runs), then each defect injected by hand with the daemon stopped (it would repair some):
# a pod route deleted, a rule deleted, an exported route missing, a record without veth, a
# veth without record, an address on two veths, an exported block that is no block of the
# node. Doctor must exit 1 and name each; after the undo it is healthy again.
source "$(dirname "$0")/lib.sh"
init_test
setup_node

for p in p1 p2 p3; do
	add_pod "$p"
	check_eq "$p added" 0 "$RC"
	[ "$p" != p1 ] || P1=$OUT
done
V4=$(ips_of "$P1" 4)
V6=$(ips_of "$P1" 6)
HV=$(host_veth_of p1)
BLOCK4=$(ip -n "$NODE" -4 route show table 119 | awk 'NR==1 {print $1}')

# doctor [flags...]: runs it in the node with --json; the report in REPORT, status in DRC.
REPORT=
DRC=
doctor() {
	REPORT=$(in_node env -u KUBECONFIG "$COIL" doctor --state-dir "$STATE" --json "$@")
	DRC=$?
}
kinds() { jq -r '[.problems[].kind] | unique | join(",")' <<<"$REPORT"; }
check_healthy() { # check_healthy LABEL
	doctor
	check_eq "$1: doctor exits 0" 0 "$DRC"
	check_eq "$1: no problems" "" "$(kinds)"
}
# check_finds LABEL KIND: doctor exits 1 and names KIND (with a message naming WHAT).
check_finds() {
	doctor
	check_eq "$1: doctor exits 1" 1 "$DRC"
	check "$1: names $2 (got: $(kinds))" grep -qw -- "$2" <<<"$(kinds | tr , ' ')"
	check "$1: the message names $3" grep -qF -- "$3" <<<"$(jq -r '.problems[].message' <<<"$REPORT")"
}

check_healthy "daemon running"
check_eq "report: 3 records" 3 "$(jq '.records | length' <<<"$REPORT")"
check_eq "report: 3 veths" 3 "$(jq '.veths | length' <<<"$REPORT")"
check_eq "report: blocks from blocks.json" state "$(jq -r .blocks_from <<<"$REPORT")"
check "report: notes that no API is configured" grep -q "no Kubernetes API configured" \
	<<<"$(jq -r '.notes[]' <<<"$REPORT")"
HUMAN=$(in_node env -u KUBECONFIG "$COIL" doctor --state-dir "$STATE")
check "human report says healthy" grep -q "^healthy" <<<"$HUMAN"

stop_daemon
check_healthy "daemon stopped"

ip -n "$NODE" -4 route del "$V4/32" table 116
check_finds "pod route deleted" pod-route-missing "$V4"
HUMAN=$(in_node env -u KUBECONFIG "$COIL" doctor --state-dir "$STATE")
check_eq "human report exits 1 too" 1 "$?"
check "human report names it" grep -q "^PROBLEM pod-route-missing: .*$V4" <<<"$HUMAN"
ip -n "$NODE" -4 route add "$V4/32" dev "$HV" proto 30 scope link table 116
check_healthy "route back"

ip -n "$NODE" -6 rule del pref 2000
check_finds "rule deleted" rule-missing "IPv6 rule of priority 2000"
ip -n "$NODE" -6 rule add pref 2000 lookup 116
check_healthy "rule back"

ip -n "$NODE" -4 route del "$BLOCK4" table 119
check_finds "export deleted" export-missing "$BLOCK4"
ip -n "$NODE" -4 route add "$BLOCK4" dev lo proto 30 table 119
check_healthy "export back"

jq -c '.container_id = "ghost" | .ipv4 = "10.100.0.30" | .ipv6 = "fd00:100::1e"' \
	"$(grep -l '"p1"' "$STATE"/allocations/*)" >"$STATE/allocations/ghost%3Aeth0"
check_finds "record without veth" record-without-veth "ghost/eth0"
rm "$STATE/allocations/ghost%3Aeth0"
check_healthy "ghost record removed"

ip -n "$NODE" link add "${PREFIX}x" type veth peer name "${PREFIX}y"
ip -n "$NODE" link set "${PREFIX}x" alias "COIL:default:orphan:eth0" up
check_finds "veth without record" veth-without-record "${PREFIX}x"
ip -n "$NODE" -4 route add "$V4/32" dev "${PREFIX}x" proto 30 scope link metric 2048 table 116
check_finds "address on two veths" address-on-two-veths "$V4 is routed to both"
ip -n "$NODE" link del "${PREFIX}x"
check_healthy "orphan veth removed"

ip -n "$NODE" -4 route add 10.99.0.0/27 dev lo proto 30 table 119
check_finds "exported block unknown to the state" export-without-block 10.99.0.0/27
ip -n "$NODE" -4 route del 10.99.0.0/27 table 119
check_healthy "stray export removed"

in_node env -u KUBECONFIG "$COIL" doctor --state-dir "$WORK/nonexistent" >/dev/null 2>&1
check_eq "an unreadable state directory: exit 2" 2 "$?"
check "V6 is set (dual-stack pod)" test -n "$V6"
finish
