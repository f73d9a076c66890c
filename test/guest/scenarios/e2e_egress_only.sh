# Egress-only mode: coild with --enable-ipam=false chained after Debian's ptp + host-local
# (as upstream's egress-only overlays run it: --pod-table-id=0 --protocol-id=2), the chain
# called as a runtime would (ptp's result handed to coil as prevResult). The client pod's
# address comes from host-local; coild tags ptp's host veth and adds the NAT client towards
# the Egress's gateway (`coil egress` on a coil-IPAM node); the gateway finds the client by
# its Pod's status.podIPs and tunnels back to it; the outside host sees the gateway's
# address. Run through controlplane.py (see README.md).
# host-local's ranges carry a default route, as every real ptp conflist does: without one the
# client's FoU packets towards the ClusterIP have no route out of the pod.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=kube.sh
. "$(dirname "$0")/kube.sh"
need /usr/lib/cni/ptp /usr/lib/cni/host-local

net_up
outside_httpd
node_up 1 --enable-ipam=false --pod-table-id=0 --protocol-id=2
node_up 2

egress_create egw '{"destinations":["192.0.2.0/24"],"replicas":1}'
cip=$(kget /api/v1/namespaces/default/services/egw | jq -r .spec.clusterIP)
pod_add 2 default gw "$(kget /apis/apps/v1/namespaces/default/deployments/egw | jq -c .spec.template.metadata.labels)"
gw_v4=$POD_V4
cluster_ip_dnat 1 "$cip" "$gw_v4"
gateway_start egw gw

# The chain on node1: ptp + host-local, then coil with ptp's result.
pod_object default eo1 node1 '{}' '{"egress.coil.cybozu.com/default":"egw"}' || die "Pod eo1"
new_netns "$(pod_ns eo1)"
chain_call() { # chain_call COMMAND CONFIG: one plugin of the chain in node1's namespace
	local type
	type=$(jq -r .type <<<"$2")
	in_node 1 env -i PATH="$PATH" LD_LIBRARY_PATH="$LD_LIBRARY_PATH" CNI_COMMAND="$1" \
		CNI_CONTAINERID=cid-eo1 CNI_NETNS="/run/netns/$(pod_ns eo1)" CNI_IFNAME=eth0 \
		CNI_PATH=/usr/lib/cni:/opt/bin \
		CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=eo1" \
		"$([ "$type" = coil ] && echo "$COIL" || echo "/usr/lib/cni/$type")" <<<"$2"
}
ptp_conf='{"cniVersion":"1.0.0","name":"k8s-pod-network","type":"ptp",
 "ipam":{"type":"host-local","ranges":[[{"subnet":"10.120.0.0/24"}]],"routes":[{"dst":"0.0.0.0/0"}],"dataDir":"/run/e2e/host-local"}}'
prev=$(chain_call ADD "$ptp_conf") || die "ptp ADD: $prev"
eo_v4=$(jq -r '.ips[0].address | split("/")[0]' <<<"$prev")
coil_conf=$(jq -cn --argjson prev "$prev" --arg sock /run/e2e/node1/coild.sock '{cniVersion: "1.0.0",
	name: "k8s-pod-network", type: "coil", socket: $sock, prevResult: $prev}')
out=$(chain_call ADD "$coil_conf")
check "coil ADD chained after ptp succeeds" test $? -eq 0
log "coil's result: $out"
pod_running default eo1 "$eo_v4"
ip route replace "$eo_v4/32" via 10.99.0.1

check "the client (address from host-local) has the tunnel to the ClusterIP" \
	in_pod eo1 ip link show "fou4_$(hex4 "$cip")"
check_eq "its table 118" "192.0.2.0/24 dev fou4_$(hex4 "$cip") proto 30" \
	"$(in_pod eo1 ip route show table 118 | sed 's/ *$//')"
check_eq "the outside host sees the gateway's address" "$gw_v4 0" \
	"$(in_pod eo1 curl -sS -m 30 http://192.0.2.1:8000/cgi-bin/addr)"

uid=$(kget /api/v1/namespaces/default/pods/eo1 | jq -r .metadata.uid)
hostveth=$(jq -r '.interfaces[] | select(.sandbox == null) | .name' <<<"$prev")
check_eq "coil tags ptp's host veth with the pod's UID" "COIL::$uid:eth0" \
	"$(in_node 1 ip -j -d link show "$hostveth" | jq -r '.[0].ifalias')"
check_eq "the client's IPv4 rules" "1800 1900 2000 2001 2002 2100" \
	"$(in_pod eo1 ip rule show | awk -F: '$1 >= 1800 && $1 <= 2100 { printf "%s%s", s, $1; s = " " }')"
check_eq "no pod-table rule on the node with --pod-table-id=0 (IPv4)" "" \
	"$(in_node 1 ip rule show priority 2000)"
check_eq "nor for IPv6" "" "$(in_node 1 ip -6 rule show priority 2000)"
check_not "and no warning about it from coild" grep -q '"host network init' "$RESULTS/coild-node1.log"
t_gw="fou4_$(hex4 "$eo_v4")"
check "the gateway has the tunnel to the client's host-local address" in_pod gw ip link show "$t_gw"
check "with FoU encapsulation towards it" grep -q \
	"remote $eo_v4 local $gw_v4 .*encap fou encap-sport 5555 encap-dport 5555" \
	<<<"$(in_pod gw ip -d link show "$t_gw")"
check_eq "the gateway's table 118 routes the client" "$eo_v4 dev $t_gw proto 30" \
	"$(in_pod gw ip route show table 118 | sed 's/ *$//')"
check "the tunnel carried the traffic both ways" awk '/RX:/ { getline; rx = $2 } /TX:/ { getline; tx = $2 }
	END { exit !(rx > 0 && tx > 0) }' <<<"$(in_pod gw ip -s link show "$t_gw")"
check "node1 sent the client's FoU packets to the gateway (DNAT of the ClusterIP)" \
	awk -v cip="$cip" '$3 == "DNAT" && $9 == cip && $1 > 0 { f = 1 } END { exit !f }' \
	<<<"$(in_node 1 iptables -t nat -L PREROUTING -v -x -n)"
check "the gateway's masquerade counted packets" awk '/MASQUERADE/ && $1 > 0 { f = 1 } END { exit !f }' \
	<<<"$(in_pod gw iptables -t nat -L POSTROUTING -v -x -n)"
metrics=$(in_pod gw curl -sS -m 10 http://127.0.0.1:8080/metrics)
echo "$metrics" >"$RESULTS/metrics-gw.txt"
check_eq "the gateway counts one client pod" 'coil_egress_client_pod_count{egress="egw",namespace="default"} 1' \
	"$(grep '^coil_egress_client_pod_count' <<<"$metrics")"
check_eq "and tells its tunnel and host-local address" 1 "$(grep -c "^coil_egress_client_pod_info{egress=\"egw\",egress_namespace=\"default\",interface=\"$t_gw\",namespace=\"default\",pod=\"eo1\",pod_ip=\"$eo_v4\"} 1" <<<"$metrics")"
head -c 1048576 /dev/urandom >/run/e2e/upload
check_eq "a 1 MiB upload arrives whole from the gateway's address" "$gw_v4 1048576" \
	"$(in_pod eo1 curl -sS -m 120 --data-binary @/run/e2e/upload http://192.0.2.1:8000/cgi-bin/addr)"

chain_call DEL "$coil_conf" >/dev/null
check "coil DEL in the chain" test $? -eq 0
chain_call DEL "$ptp_conf" >/dev/null
kapi DELETE /api/v1/namespaces/default/pods/eo1 >/dev/null
ip netns delete "$(pod_ns eo1)"
gone() { ! in_pod gw ip link show "$t_gw" >/dev/null 2>&1; }
check "the gateway removes the tunnel of the deleted client" wait_for 30 gone
check_eq "and its route in table 118" "" "$(in_pod gw ip route show table 118)"
gateway_stop gw
daemon_stop 1
check_eq "coild (egress-only) exits 0 on SIGTERM" 0 "$DAEMON_RC"
daemon_stop 2
finish
