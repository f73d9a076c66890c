# The end-to-end rig without the NAT data path: two guest nodes running `coil daemon` in
# Kubernetes mode against the host's API server, an Egress turned by the host's
# egress-controller into a Deployment and a Service, its gateway pod made as a kubelet would
# (netns, CNI ADD through coild, Pod object with the template's labels, Running status),
# and the Service's ClusterIP reaching that pod from the other node (kube-proxy's DNAT).
# Run through controlplane.py (see README.md).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=kube.sh
. "$(dirname "$0")/kube.sh"

net_up
node_up 1
node_up 2

egress='{"apiVersion":"coil.cybozu.com/v2","kind":"Egress","metadata":{"name":"egw","namespace":"default"},
 "spec":{"destinations":["192.0.2.0/24","2001:db8::/64"],"replicas":1}}'
check "Egress default/egw created" kapi POST /apis/coil.cybozu.com/v2/namespaces/default/egresses "$egress" >/dev/null
check "the controller makes Deployment default/egw" wait_for 30 kget /apis/apps/v1/namespaces/default/deployments/egw
check "and Service default/egw" wait_for 30 kget /api/v1/namespaces/default/services/egw
deploy=$(kget /apis/apps/v1/namespaces/default/deployments/egw)
svc=$(kget /api/v1/namespaces/default/services/egw)
labels=$(jq -c '.spec.template.metadata.labels' <<<"$deploy")
check_eq "the gateway pods' labels" \
	'{"app.kubernetes.io/component":"egress","app.kubernetes.io/instance":"egw","app.kubernetes.io/name":"coil"}' \
	"$(jq -cS . <<<"$labels")"
check_eq "the gateway container's command" '["coil-egress"]' \
	"$(jq -c '.spec.template.spec.containers[] | select(.name == "egress") | .command' <<<"$deploy")"
check_eq "the Service carries UDP 5555" "5555/UDP" "$(jq -r '.spec.ports[0] | "\(.port)/\(.protocol)"' <<<"$svc")"
cluster_ip=$(jq -r '.spec.clusterIP' <<<"$svc")

# kubelet's part: the gateway pod on node2.
pod_add 2 default egw-gw0 "$labels"
gw_v4=$POD_V4
check "the gateway pod has an IPv4 address from the pool" \
	bash -c "[[ '$gw_v4' == 10.100.* ]]"
check "and an IPv6 address from the pool" bash -c "[[ '$POD_V6' == fd00:100::* ]]"
check_eq "coild on node2 routes the gateway pod (table 116)" 1 \
	"$(in_node 2 ip route show table 116 | grep -c "^$gw_v4 dev")"
check_eq "node2 has one AddressBlock" 1 \
	"$(kget '/apis/coil.cybozu.com/v2/addressblocks?labelSelector=coil.cybozu.com/node%3Dnode2' | jq '.items | length')"

# The Service's ClusterIP in node1 goes to the gateway pod (a kube-proxy stand-in).
cluster_ip_dnat 1 "$cluster_ip" "$gw_v4"
pod_add 1 default plain1
check "a pod on node1 reaches the gateway pod on node2" in_pod plain1 ping -c1 -W5 "$gw_v4" >/dev/null
check "and the outside host through the network" in_pod plain1 ping -c1 -W5 192.0.2.1 >/dev/null
check "the gateway pod reaches the API server on the host" \
	in_pod egw-gw0 curl -sS -f -o /dev/null -m 10 "$API/version"

pod_del 1 default plain1
pod_del 2 default egw-gw0
daemon_stop 1
check_eq "coild on node1 exits 0 on SIGTERM" 0 "$DAEMON_RC"
daemon_stop 2
check_eq "coild on node2 exits 0 on SIGTERM" 0 "$DAEMON_RC"
finish
