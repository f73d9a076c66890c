# coild's NAT client end to end on a kernel with FoU: a guest node running `coil daemon` in
# Kubernetes mode against the host's API server and egress-controller; a client pod annotated
# for Egress default/egc gets, at CNI ADD, its FoU listener, the tunnel to the Egress
# Service's ClusterIP, the client rules and its destination in table 118; then the Egress is
# narrowed to one address with fouSourcePortAuto, and coild's Egress watcher updates the
# running pod (the tunnel recreated with encap source port auto, exactly that route left).
# It also logs the ADD latency (coild's grpc.time_ms, median of 3) of plain pods and of
# client pods, into results/natclient_e2e.d/add-latency.txt.
# Run through controlplane.py (see README.md).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=kube.sh
. "$(dirname "$0")/kube.sh"

net_up
node_up 1

egress='{"apiVersion":"coil.cybozu.com/v2","kind":"Egress","metadata":{"name":"egc","namespace":"default"},
 "spec":{"destinations":["192.0.2.0/24","2001:db8::/64"],"replicas":1}}'
check "Egress default/egc created" kapi POST /apis/coil.cybozu.com/v2/namespaces/default/egresses "$egress" >/dev/null
check "and its Service" wait_for 30 kget /api/v1/namespaces/default/services/egc
cluster_ip=$(kget /api/v1/namespaces/default/services/egc | jq -r '.spec.clusterIP')
# shellcheck disable=SC2086
tunnel=$(printf 'fou4_%02x%02x%02x%02x' ${cluster_ip//./ })

# coild's time for the last ADD of pod NAME (its access log line).
add_ms() {
	grep '"grpc.method":"Add"' "$RESULTS/coild-node1.log" |
		jq -r --arg p "$1" 'select(."grpc.request.pod.name" == $p) | ."grpc.time_ms"' | tail -1
}
median3() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
# iproute2's ip by path: nsenter would run busybox's, which knows neither -d nor fou.
IPROUTE=/usr/sbin/ip
[ -x "$IPROUTE" ] || die "needs iproute2 at $IPROUTE in the guest"
tunnel_has() { in_pod client1 "$IPROUTE" -d link show "$tunnel" | grep -q -- "$1"; }
link_is_up() { in_pod client1 ip link show "$1" | grep -q ',UP'; }
table118() { in_pod client1 ip route show table 118 | sed 's/ proto [a-z0-9]*//; s/ *$//'; }

plain=() client=()
for i in 1 2 3; do
	pod_add 1 default "plain$i"
	plain+=("$(add_ms "plain$i")")
done
for i in 3 2 1; do # client1 last: the pod the checks below look at
	pod_add 1 default "client$i" '{}' '{"egress.coil.cybozu.com/default":"egc"}'
	client+=("$(add_ms "client$i")")
done
echo "CNI ADD in the guest (TCG), coild's time, median of 3: plain $(median3 "${plain[@]}") ms," \
	"NAT client with one Egress $(median3 "${client[@]}") ms" | tee "$RESULTS/add-latency.txt" >&2

check "the client pod has its addresses" test -n "$POD_V4"
check "fou-dummy marks the client's FoU init" in_pod client1 ip link show fou-dummy
check_eq "FoU listeners on 5555 for IPv4 and IPv6 (the pod is dual-stack)" \
	"port 5555 ipproto 4,port 5555 ipproto 41 -6" \
	"$(in_pod client1 "$IPROUTE" fou show | sed 's/ *$//' | sort | paste -sd,)"
check "the tunnel $tunnel towards the ClusterIP, fixed source port" \
	tunnel_has 'encap fou encap-sport 5555 encap-dport 5555'
check "coil_ipip4 is up" link_is_up coil_ipip4
check_eq "the client rules" "1800 1900 2000 2001 2002 2100" \
	"$(in_pod client1 ip rule | awk -F: '$1 >= 1800 && $1 <= 2100 {printf "%s%s", s, $1; s=" "}')"
check_eq "table 118: the destination through the tunnel" "192.0.2.0/24 dev $tunnel" "$(table118)"
check_eq "no IPv6 gateway (the Service is IPv4 only): table 118 of IPv6 empty" "" \
	"$(in_pod client1 ip -6 route show table 118)"
check_eq "a plain pod has no tunnel" "" "$(in_pod plain1 ip link show fou-dummy 2>/dev/null)"

check "the Egress narrowed, source port auto" kapi PATCH \
	/apis/coil.cybozu.com/v2/namespaces/default/egresses/egc \
	'{"spec":{"destinations":["192.0.2.1/32"],"fouSourcePortAuto":true}}' >/dev/null
table_is_narrowed() { [ "$(table118)" == "192.0.2.1 dev $tunnel" ]; }
check "the watcher leaves exactly 192.0.2.1 in table 118" wait_for 60 table_is_narrowed
check "and the tunnel now has encap source port auto" tunnel_has 'encap-sport auto'
check_eq "the other client pods were updated too" "192.0.2.1 dev $tunnel" \
	"$(in_pod client2 ip route show table 118 | sed 's/ proto [a-z0-9]*//; s/ *$//')"

for i in 1 2 3; do
	pod_del 1 default "client$i"
	pod_del 1 default "plain$i"
done
daemon_stop 1
check_eq "coild on node1 exits 0 on SIGTERM" 0 "$DAEMON_RC"
finish
