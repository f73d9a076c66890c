#!/bin/bash
# Drift repair: something else deletes what the daemon keeps in the kernel (a pod's route in
# table 116, a block route in table 119, the pod-table rule of priority 2000, the node address
# on a host veth); the daemon puts each back within a second and counts it in
# coil_drift_repairs_total{object=...}, with a log line (standalone mode has no Events).
source "$(dirname "$0")/lib.sh"
init_test
setup_node

add_pod p1
check_eq "p1 added" 0 "$RC"
V4=$(ips_of "$OUT" 4)
V6=$(ips_of "$OUT" 6)
HV=$(host_veth_of p1)

drift_count() { # drift_count OBJECT: the counter's value
	http_get "$METRICS_PORT" /metrics |
		awk -v want="coil_drift_repairs_total{object=\"$1\"}" '$1 == want {print $2}'
}
# check_back WHAT SECONDS CMD...: CMD succeeds again within SECONDS (bash counts whole
# seconds: 2 means one to two; the daemon repairs after 100 ms).
check_back() {
	local what=$1 secs=$2
	shift 2
	check "$what is back within ${secs}s" wait_for "$secs" "$@"
}
has_route() { ip -n "$NODE" "-$1" route show table "$2" | grep -q "^$3 "; }
has_rule() { ip -n "$NODE" "-$1" rule show pref 2000 | grep -q "lookup 116"; }
has_addr() { ip -n "$NODE" "-$1" addr show dev "$HV" | grep -q "inet6\? $2/"; }

for obj in pod_route export_route rule node_address; do
	check_eq "$obj counter starts at 0" 0 "$(drift_count "$obj")"
done

# A pod route, IPv4 then IPv6.
ip -n "$NODE" -4 route del "$V4/32" table 116 || fail "cannot delete the pod route"
check_back "IPv4 pod route" 2 has_route 4 116 "$V4"
ip -n "$NODE" -6 route del "$V6/128" table 116 || fail "cannot delete the pod route"
check_back "IPv6 pod route" 2 has_route 6 116 "$V6"
check "pod_route counted twice" wait_for 2 test "$(drift_count pod_route)" == 2

# An exported block route.
BLOCK4=$(ip -n "$NODE" -4 route show table 119 | awk 'NR==1 {print $1}')
BLOCK6=$(ip -n "$NODE" -6 route show table 119 | awk 'NR==1 {print $1}')
ip -n "$NODE" -4 route del "$BLOCK4" table 119 || fail "cannot delete $BLOCK4 from table 119"
check_back "exported $BLOCK4" 2 has_route 4 119 "$BLOCK4"
ip -n "$NODE" -6 route del "$BLOCK6" table 119 || fail "cannot delete $BLOCK6 from table 119"
check_back "exported $BLOCK6" 2 has_route 6 119 "$BLOCK6"
check "export_route counted twice" wait_for 2 test "$(drift_count export_route)" == 2

# The pod-table rules.
ip -n "$NODE" -4 rule del pref 2000 || fail "cannot delete the IPv4 rule"
check_back "IPv4 rule 2000" 2 has_rule 4
ip -n "$NODE" -6 rule del pref 2000 || fail "cannot delete the IPv6 rule"
check_back "IPv6 rule 2000" 2 has_rule 6
check "rule counted twice" wait_for 2 test "$(drift_count rule)" == 2

# The node addresses on the host veth (upstream #350).
ip -n "$NODE" addr del "$NODE_IPV4/32" dev "$HV" || fail "cannot delete the node IPv4 address"
check_back "node IPv4 address on $HV" 2 has_addr 4 "$NODE_IPV4"
ip -n "$NODE" addr del "$NODE_IPV6/128" dev "$HV" || fail "cannot delete the node IPv6 address"
check_back "node IPv6 address on $HV" 2 has_addr 6 "$NODE_IPV6"
check "node_address counted twice" wait_for 2 test "$(drift_count node_address)" == 2
# Removing the last IPv4 address of a link makes the kernel flush the link's IPv4 routes
# without a notification: the daemon puts the pod route back with the address.
check "IPv4 pod route back with the address" has_route 4 116 "$V4"
check_eq "the flushed pod route counted" 3 "$(drift_count pod_route)"

check "the pod still reaches the node" in_pod p1 ping -c1 -W2 -q "$NODE_IPV4" >/dev/null
check_eq "each repair is logged (the IPv4 route flushed with the address too)" 9 "$(grep -c '"repaired drift"' "$WORK/coild.log")"

# The daemon's own changes are no drift: a DEL removes routes, addresses and (with the last
# pod) the block and its export, and counts nothing.
declare -A FINAL=([pod_route]=3 [export_route]=2 [rule]=2 [node_address]=2)
del_pod p1 >/dev/null || fail "DEL p1 failed"
sleep 0.5
for obj in pod_route export_route rule node_address; do
	check_eq "$obj counter unchanged by DEL" "${FINAL[$obj]}" "$(drift_count "$obj")"
done
finish
