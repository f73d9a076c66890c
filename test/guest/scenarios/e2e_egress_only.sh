# Egress-only mode: coild with --enable-ipam=false chained after Debian's ptp + host-local
# (as upstream's egress-only overlays run it), the chain called as a runtime would (ptp's
# result handed to coil as prevResult). The client pod's addresses come from host-local;
# coild adds the NAT client towards the Egress's gateway, and the outside host sees the
# gateway's address. Run through controlplane.py (see README.md).
# NOT registered in CMakeLists.txt yet: it fails (last run: the client's tunnel and table 118
# are right, but the outside host gets nothing; the gateway's log shows no client added for
# the host-local address, and coild --pod-table-id=0 logs "add IPv6 rule pref 2000 to all
# lookup 0: Invalid table" at start).
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
 "ipam":{"type":"host-local","ranges":[[{"subnet":"10.120.0.0/24"}]],"dataDir":"/run/e2e/host-local"}}'
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

chain_call DEL "$coil_conf" >/dev/null
check "coil DEL in the chain" test $? -eq 0
chain_call DEL "$ptp_conf" >/dev/null
gateway_stop gw
daemon_stop 1
check_eq "coild (egress-only) exits 0 on SIGTERM" 0 "$DAEMON_RC"
daemon_stop 2
finish
