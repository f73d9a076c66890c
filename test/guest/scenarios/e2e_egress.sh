# Egress NAT end to end through the real programs: the host's egress-controller turns two
# Egress objects into Deployments and Services, `coil egress` runs in gateway pods on node2
# as their Deployments say, coild on node1 sets up the client pod that asks for both, and
# the outside host sees the client's connections coming from the gateways' addresses.
#   egw4: IPv4 192.0.2.0/24 and 198.51.100.0/24, iptables (the controller's default),
#         FoU source port fixed (5555)
#   egw6: IPv6 2001:db8::/64, nftables (through the Egress's template args), source port
#         auto (fouSourcePortAuto)
# Then: the Egress narrowed to one destination (exactly that route stays in table 118 of the
# client), originating-only on node3 (ingress to its client answered through eth0) and off
# on node1 (replies would take the tunnel), 100 uploads of 1 MiB seen from the gateway's address, the gateway restarted
# (the client recovers), the client deleted (its tunnel and route go from the gateway).
# Run through controlplane.py (see README.md).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=kube.sh
. "$(dirname "$0")/kube.sh"
UPLOADS=${UPLOADS:-100}
# table118 POD [-6]: the routes of table 118 in the pod, without ip's trailing blanks.
table118() { in_pod "$1" ip ${2:-} route show table 118 | sed 's/ *$//'; }
# metric_positive POD SERIES: the series (name and labels as printed) is above 0.
metric_positive() {
	in_pod "$1" curl -sS -m 10 http://127.0.0.1:8080/metrics |
		awk -v s="$2" '$1 == s && $2 > 0 { f = 1 } END { exit !f }'
}

net_up
outside_httpd
node_up 1
node_up 2

egress_create egw4 '{"destinations":["192.0.2.0/24","198.51.100.0/24"],"replicas":1}'
egress_create egw6 '{"destinations":["2001:db8::/64"],"replicas":1,"fouSourcePortAuto":true,
 "template":{"spec":{"containers":[{"name":"egress","args":["--zap-stacktrace-level=panic",
 "--backend=nftables","--enable-sport-auto=true"]}]}}}'
svc4=$(kget /api/v1/namespaces/default/services/egw4)
svc6=$(kget /api/v1/namespaces/default/services/egw6)
cip4=$(jq -r '.spec.clusterIPs[] | select(contains("."))' <<<"$svc4")
cip6=$(jq -r '.spec.clusterIPs[] | select(contains(":"))' <<<"$svc6")
[ -n "$cip4" ] && [ -n "$cip6" ] || die "Services without the ClusterIPs of both families: $cip4 $cip6"

# The gateway pods on node2, labelled as their Deployments' templates say.
labels() { kget "/apis/apps/v1/namespaces/default/deployments/$1" | jq -c .spec.template.metadata.labels; }
pod_add 2 default gw4 "$(labels egw4)"
gw4_v4=$POD_V4
pod_add 2 default gw6 "$(labels egw6)"
gw6_v6=$POD_V6
cluster_ip_dnat 1 "$cip4" "$gw4_v4"
cluster_ip_dnat 1 "$cip6" "$gw6_v6"
gateway_start egw4 gw4
gateway_start egw6 gw6

# The gateway side before any client: FoU listener, marker links, rule 2000, NAT rules.
check_eq "gw4 listens for FoU on 5555 (IPv4)" "port 5555 ipproto 4" "$(in_pod gw4 ip fou show | grep 'ipproto 4$')"
check "gw4 has fou-dummy and egress-dummy" in_pod gw4 ip link show egress-dummy
check_eq "gw4 routes replies by table 118 (rule 2000)" "2000:	from all iif eth0 lookup 118" \
	"$(in_pod gw4 ip rule show priority 2000)"
check_eq "gw4 masquerades with iptables" 1 \
	"$(in_pod gw4 iptables -t nat -S POSTROUTING | grep -c -- "! -s $gw4_v4/32 -o eth0 -j MASQUERADE")"
check_eq "gw6 masquerades with nftables" 1 \
	"$(in_pod gw6 nft list table ip6 nat | grep -c 'oifname "eth0" counter packets [0-9]* bytes [0-9]* masquerade')"

# The client pod on node1 asks for both Egresses.
pod_add 1 default client1 '{}' '{"egress.coil.cybozu.com/default":"egw4,egw6"}'
cl_v4=$POD_V4
cl_v6=$POD_V6
t4=fou4_$(hex4 "$cip4")
check "the client has the tunnel $t4 to egw4's ClusterIP" in_pod client1 ip link show "$t4"
check "with FoU encapsulation, source and destination port 5555" \
	grep -q 'encap fou encap-sport 5555 encap-dport 5555' <<<"$(in_pod client1 ip -d link show "$t4")"
t6=$(in_pod client1 ip -j -d link show type ip6tnl | jq -r --arg r "$cip6" '.[] | select(.linkinfo.info_data.remote == $r) | .ifname')
check "the client has an ip6tnl tunnel to egw6's ClusterIP" bash -c "[[ '$t6' == fou6_???????? ]]"
check "with an automatic source port" \
	grep -q 'encap fou encap-sport auto encap-dport 5555' <<<"$(in_pod client1 ip -d link show "$t6")"
check_eq "the client's IPv4 rules" "1800 1900 2000 2001 2002 2100" \
	"$(in_pod client1 ip rule show | awk -F: '$1 >= 1800 && $1 <= 2100 { printf "%s%s", s, $1; s = " " }')"
check_eq "the client's table 118 (IPv4)" "192.0.2.0/24 dev $t4 proto 30
198.51.100.0/24 dev $t4 proto 30" "$(table118 client1)"
check_eq "the client's table 118 (IPv6)" "2001:db8::/64 dev $t6 proto 30 metric 1024 pref medium" \
	"$(in_pod client1 ip -6 route show table 118)"

# Traffic: the outside host sees the gateways' addresses.
check_eq "IPv4 to the outside comes from gw4" "$gw4_v4 0" \
	"$(in_pod client1 curl -sS -m 30 http://192.0.2.1:8000/cgi-bin/addr)"
check_eq "IPv6 to the outside comes from gw6" "$gw6_v6 0" \
	"$(in_pod client1 curl -sS -g -m 30 'http://[2001:db8::1]:8000/cgi-bin/addr')"
check "gw4 has the tunnel to the client" in_pod gw4 ip link show "fou4_$(hex4 "$cl_v4")"
check_eq "gw4's table 118 routes the client" "$cl_v4 dev fou4_$(hex4 "$cl_v4") proto 30" \
	"$(table118 gw4)"
check_eq "gw6's table 118 routes the client" 1 "$(in_pod gw6 ip -6 route show table 118 | grep -c "^$cl_v6 dev fou6_")"
check "gw4's masquerade counted packets" awk '/MASQUERADE/ && $1 > 0 { f = 1 } END { exit !f }' \
	<<<"$(in_pod gw4 iptables -t nat -L POSTROUTING -v -x -n)"
metrics4=$(in_pod gw4 curl -sS -m 10 http://127.0.0.1:8080/metrics)
echo "$metrics4" >"$RESULTS/metrics-gw4.txt"
check_eq "gw4 counts one client pod" 'coil_egress_client_pod_count{egress="egw4",namespace="default"} 1' \
	"$(grep '^coil_egress_client_pod_count' <<<"$metrics4")"
check_eq "gw4 tells the client's tunnel" 1 "$(grep -c "^coil_egress_client_pod_info{egress=\"egw4\",egress_namespace=\"default\",interface=\"fou4_$(hex4 "$cl_v4")\",namespace=\"default\",pod=\"client1\",pod_ip=\"$cl_v4\"} 1" <<<"$metrics4")"
metrics6=$(in_pod gw6 curl -sS -m 10 http://127.0.0.1:8080/metrics)
echo "$metrics6" >"$RESULTS/metrics-gw6.txt"
# The collector reads the counters every 30 s.
check "gw6's masqueraded-packets metric (IPv6, nftables) counts the traffic" wait_for 45 metric_positive gw6 \
	'coil_egress_nftables_masqueraded_packets_total{egress="egw6",namespace="default",pod="gw6",protocol="ipv6"}'
check "gw4's masqueraded-packets metric (IPv4, iptables-nft) counts the traffic" wait_for 45 metric_positive gw4 \
	'coil_egress_nftables_masqueraded_packets_total{egress="egw4",namespace="default",pod="gw4",protocol="ipv4"}'
check "gw4 reads the conntrack count" metric_positive gw4 \
	'coil_egress_nf_conntrack_entries_limit{egress="egw4",namespace="default",pod="gw4"}' 

# The Egress narrowed: exactly the remaining destination in the client's table 118.
egress_update egw4 '{"destinations":["192.0.2.0/24"]}'
narrowed() { [ "$(table118 client1)" == "192.0.2.0/24 dev $t4 proto 30" ]; }
check "narrowing egw4 leaves exactly 192.0.2.0/24 in the client's table 118" wait_for 30 narrowed

# Originating-only: node3's coild runs with --enable-originating-only. Connections that
# enter client2 through eth0 are answered through eth0 (connmark -> fwmark -> table
# 1000+ifindex); client1 (node1, without it) would answer them through the tunnel.
node_up 3 --enable-originating-only=true
cluster_ip_dnat 3 "$cip4" "$gw4_v4"
pod_add 3 default client2 '{}' '{"egress.coil.cybozu.com/default":"egw4"}'
cl2_v4=$POD_V4
ifindex=$(in_pod client2 ip -j link show eth0 | jq '.[0].ifindex')
check_eq "client2 marks replies for table $((1000 + ifindex)) (rule 1000)" 1 \
	"$(in_pod client2 ip rule show priority 1000 | grep -c "fwmark $(printf '%#x' "$ifindex") lookup $((1000 + ifindex))")"
check "table $((1000 + ifindex)) of client2 holds eth0's routes" \
	grep -q 'dev eth0' <<<"$(in_pod client2 ip route show table $((1000 + ifindex)))"
check_eq "client2 has the two connmark rules (iptables)" 2 \
	"$(in_pod client2 iptables -t mangle -S | grep -c -- "CONNMARK")"
check_eq "client2 still egresses through gw4" "$gw4_v4 0" \
	"$(in_pod client2 curl -sS -m 30 http://192.0.2.1:8000/cgi-bin/addr)"
mkdir -p /run/e2e/www-client && echo client2 >/run/e2e/www-client/index.html
start_bg "$RESULTS/httpd-client2.log" ip netns exec "$(pod_ns client2)" busybox httpd -f -p 8000 -h /run/e2e/www-client
check_eq "ingress from the outside to client2 is answered (originating-only on)" client2 \
	"$(wait_for 10 ip netns exec e2e-out curl -sf -o /dev/null -m 5 "http://$cl2_v4:8000/index.html" && ip netns exec e2e-out curl -sS -m 10 "http://$cl2_v4:8000/index.html")"
check_eq "client1 (originating-only off) has no fwmark rule" "" "$(in_pod client1 ip rule show priority 1000)"
check "client1 would answer the outside host through the tunnel" \
	grep -q "dev $t4" <<<"$(in_pod client1 ip route get 192.0.2.1 from "$cl_v4")"
pod_del 3 default client2
daemon_stop 3
check_eq "coild on node3 exits 0 on SIGTERM" 0 "$DAEMON_RC"

# 1 MiB uploads, each seen from the gateway's address with every byte.
head -c 1048576 /dev/urandom >/run/e2e/upload
t0=$SECONDS
# One curl for all of them (each URL gets the whole body): no process start per upload.
urls=()
for ((i = 0; i < UPLOADS; i++)); do urls+=(http://192.0.2.1:8000/cgi-bin/addr); done
ok=$(in_pod client1 curl -sS -m 600 --data-binary @/run/e2e/upload "${urls[@]}" | grep -c "^$gw4_v4 1048576\$")
check_eq "$UPLOADS uploads of 1 MiB arrive whole from gw4's address" "$UPLOADS" "$ok"
log "$UPLOADS uploads of 1 MiB took $((SECONDS - t0)) s"

# The gateway restarted: it finds its client again, and the client's traffic flows.
gateway_stop gw4
check_eq "coil egress exits 0 on SIGTERM" 0 "$GW_RC"
gateway_start egw4 gw4
check "the restarted gw4 has the tunnel to the client again" \
	wait_for 30 in_pod gw4 ip link show "fou4_$(hex4 "$cl_v4")"
check_eq "and the client's traffic comes from gw4 again" "$gw4_v4 0" \
	"$(in_pod client1 curl -sS -m 30 http://192.0.2.1:8000/cgi-bin/addr)"

# The client deleted: its tunnel and route go from both gateways.
pod_del 1 default client1
gone4() { ! in_pod gw4 ip link show "fou4_$(hex4 "$cl_v4")" >/dev/null 2>&1; }
check "gw4 removes the tunnel of the deleted client" wait_for 30 gone4
check_eq "and its route in table 118" "" "$(table118 gw4)"
gone6() { [ -z "$(in_pod gw6 ip -6 route show table 118)" ]; }
check "gw6 removes the route of the deleted client" wait_for 30 gone6
check_eq "gw4 counts no client pod" 'coil_egress_client_pod_count{egress="egw4",namespace="default"} 0' \
	"$(in_pod gw4 curl -sS -m 10 http://127.0.0.1:8080/metrics | grep '^coil_egress_client_pod_count')"

gateway_stop gw6
check_eq "coil egress (gw6) exits 0 on SIGTERM" 0 "$GW_RC"
gateway_stop gw4
daemon_stop 1
check_eq "coild on node1 exits 0 on SIGTERM" 0 "$DAEMON_RC"
daemon_stop 2
finish
