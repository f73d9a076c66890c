# The egress benchmark's guest half (not a suite scenario: bench/egress-guest.sh stages it
# through GUEST_SCENARIOS_EXTRA and runs it through test/guest/controlplane.py). Two figures,
# on the guest kernel (the only one here with fou/ipip), under QEMU TCG on one vCPU:
#  1. CNI ADD latency of the real plugin (coil-static) and coild (Kubernetes mode) on node1:
#     PODS pods without an Egress and PODS pods asking for one (Egress egl), the calls
#     interleaved one at a time so that drifting load hits both alike; p50/p99 of the
#     plugin's wall clock (bash's $EPOCHREALTIME around fork, exec and wait, in the node's
#     netns) and of coild's own time (grpc.time_ms of its access log); DEL p50 too.
#  2. The memory of a real `coil egress` gateway (Egress egb) with 1 and then CLIENTS client
#     pods that have IPs (Pod objects with the annotation and status.podIPs; nothing on the
#     client side), so it makes one real FoU tunnel and one table-118 route per client:
#     the tunnels the kernel shows, coil_egress_client_pod_count, VmRSS/VmHWM, and the
#     guest's Slab and MemAvailable (kernel-side cost of the tunnels, guest-wide, rough).
# Prints a summary (also in $RESULTS/summary.txt). Arguments: PODS=20 CLIENTS=100.
# shellcheck source=../../test/guest/scenarios/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=../../test/guest/scenarios/kube.sh
. "$(dirname "$0")/kube.sh"
PODS=${PODS:-20}
CLIENTS=${CLIENTS:-100}
PLUGIN=/opt/bin/coil-static
[ -x "$PLUGIN" ] || die "needs $PLUGIN staged (GUEST_STAGE)"
[ -n "${EPOCHREALTIME:-}" ] || die "needs bash 5 (\$EPOCHREALTIME)"
SUMMARY=$RESULTS/summary.txt
say() { echo "$*" | tee -a "$SUMMARY"; }

# pod_json NAME ANNOTATION_VALUE|"": a Pod in default bound to node1, asking for that Egress.
pod_json() {
	local ann=""
	[ -z "$2" ] || ann=",\"annotations\":{\"egress.coil.cybozu.com/default\":\"$2\"}"
	printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s","namespace":"default"%s},"spec":{"nodeName":"node1","containers":[{"name":"c","image":"busybox"}]}}' \
		"$1" "$ann"
}
# api_batch REQUEST...: one curl for many requests (each "METHOD PATH BODY", tab-separated):
# a curl per request costs ~50 ms under TCG. Fails unless every answer is 2xx.
api_batch() {
	local args=() req method path body ctype codes
	for req in "$@"; do
		IFS=$'\t' read -r method path body <<<"$req"
		ctype=application/json
		[ "$method" != PATCH ] || ctype=application/merge-patch+json
		args+=(--next -sS -o /dev/null -w '%{http_code}\n' -X "$method" -H "Content-Type: $ctype"
			--data-binary "$body" "$API$path")
	done
	codes=$(curl "${args[@]:1}") || return 1
	[ "$(grep -vc '^2' <<<"$codes")" -eq 0 ] || { log "API answers: $(sort <<<"$codes" | uniq -c)"; return 1; }
}

# timed_calls COMMAND PLUGIN NETCONF OUT POD...: the plugin once per pod, one at a time, as a
# runtime calls it; "POD MICROSECONDS" lines in OUT. Runs inside the node's netns (below).
timed_calls() {
	local cmd=$1 plugin=$2 conf=$3 out=$4 pod t0 t1
	shift 4
	for pod in "$@"; do
		t0=$EPOCHREALTIME
		CNI_COMMAND=$cmd CNI_CONTAINERID=cid-$pod CNI_NETNS=/run/netns/e2e-pod-$pod \
			CNI_IFNAME=eth0 CNI_PATH=/opt/bin \
			CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=$pod" \
			"$plugin" <<<"$conf" >"/run/e2e/cni-$pod.out" ||
			{ echo "CNI $cmd of $pod failed: $(cat "/run/e2e/cni-$pod.out")" >&2; return 1; }
		t1=$EPOCHREALTIME
		echo "$pod $((${t1/./} - ${t0/./}))"
	done >"$out"
}
# cni_timed COMMAND OUT POD...: timed_calls in node1's netns with a clean environment.
cni_timed() {
	local conf
	conf=$(printf '{"cniVersion":"1.0.0","name":"k8s-pod-network","type":"coil","socket":"%s"}' \
		/run/e2e/node1/coild.sock)
	in_node 1 env -i PATH="$PATH" bash -c "$(declare -f timed_calls); timed_calls \"\$@\"" _ \
		"$1" "$PLUGIN" "$conf" "$2" "${@:3}"
}
# pct P: the P-th percentile (nearest rank) of the numbers on stdin.
pct() { sort -g | awk -v p="$1" '{ v[NR] = $1 } END { r = int(p / 100 * NR); if (r < p / 100 * NR) r++; if (r < 1) r = 1; print v[r] }'; }
# ms_of PREFIX FILE: the microseconds of the pods named PREFIX* in FILE, as ms.
ms_of() { awk -v p="$1" 'index($1, p) == 1 { printf "%.2f\n", $2 / 1000 }' "$2"; }
# coild_ms METHOD PREFIX: coild's grpc.time_ms of each METHOD call for pods named PREFIX*.
coild_ms() {
	grep "\"grpc.method\":\"$1\"" "$RESULTS/coild-node1.log" |
		jq -r --arg p "$2" 'select(."grpc.request.pod.name" | startswith($p)) | ."grpc.time_ms"'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# --- 0. The host's plain benchmark, in the guest --------------------------------------------
# bench/cni-bench.sh's driver against a standalone coild (its configs/coil-v4 setting): the
# host script runs the same, so the two p50s give the TCG factor of exactly this workload.
# standalone_add_p50: sets SA_P50 (not a subshell: the netns and the daemon it makes are
# cleaned up at the end like every other).
SA_P50=
standalone_add_p50() {
	local dir=/run/e2e-sa i out
	rm -rf "$dir" && mkdir -p "$dir"
	printf 'apiVersion: coil.cybozu.com/v2\nkind: AddressPool\nmetadata: {name: default}\nspec:\n  blockSizeBits: 5\n  subnets: [{ipv4: 10.200.0.0/16}]\n' >"$dir/pool.yaml"
	printf '{"cniVersion":"1.0.0","name":"bench-coil","type":"coil","socket":"%s/coild.sock"}' "$dir" >"$dir/netconf.json"
	new_netns e2e-sa-node
	for ((i = 0; i < PODS; i++)); do new_netns "e2e-sa-pod-$i"; done
	start_bg "$RESULTS/coild-standalone.log" ip netns exec e2e-sa-node "$COIL" daemon --standalone \
		--config "$dir/pool.yaml" --state-dir "$dir/state" --socket "$dir/coild.sock" \
		--node-ipv4 10.20.30.41 --metrics-addr 127.0.0.1:9384 --health-addr 127.0.0.1:9385
	local pid=$!
	wait_for 60 test -S "$dir/coild.sock" || die "the standalone coild did not start"
	out=$(ip netns exec e2e-sa-node /opt/bin/cni-bench --plugin "$PLUGIN" --netconf "$dir/netconf.json" \
		--cni-path /opt/bin --netns-prefix /run/netns/e2e-sa-pod- --pods "$PODS") ||
		die "cni-bench in the guest failed: $out"
	echo "$out" >"$RESULTS/cni-bench-standalone.txt"
	kill "$pid"
	wait "$pid" 2>/dev/null
	SA_P50=$(awk -F= '$1 == "add_p50_ms" { print $2 }' <<<"$out")
}
[ -x /opt/bin/cni-bench ] || die "needs /opt/bin/cni-bench staged (GUEST_STAGE)"
standalone_add_p50
check "the standalone ADD p50 in the guest" test -n "$SA_P50"
say "== plain ADD p50 in the guest, as on the host (cni-bench, standalone coild, $PODS pods): $SA_P50 ms"

net_up
node_up 1
egress_create egl '{"destinations":["192.0.2.0/24"],"replicas":1}'
egress_create egb '{"destinations":["192.0.2.0/24","198.51.100.0/24"],"replicas":1}'
cip=$(kget /api/v1/namespaces/default/services/egl | jq -r .spec.clusterIP)

# --- 1. CNI ADD latency --------------------------------------------------------------------
# One untimed ADD of each kind first: the node's first block, the first load of fou.
reqs=() order=()
reqs+=("POST	/api/v1/namespaces/default/pods	$(pod_json warm-plain "")")
reqs+=("POST	/api/v1/namespaces/default/pods	$(pod_json warm-client egl)")
for ((i = 1; i <= PODS; i++)); do
	reqs+=("POST	/api/v1/namespaces/default/pods	$(pod_json "plain-$i" "")")
	reqs+=("POST	/api/v1/namespaces/default/pods	$(pod_json "client-$i" egl)")
	order+=("plain-$i" "client-$i")
done
api_batch "${reqs[@]}" || die "the Pod objects of the latency pods"
for p in warm-plain warm-client "${order[@]}"; do new_netns "$(pod_ns "$p")"; done
cni_timed ADD "$RESULTS/warm-add.txt" warm-plain warm-client || die "the warm-up ADDs"
log "timing $((2 * PODS)) ADDs, interleaved"
cni_timed ADD "$RESULTS/add.txt" "${order[@]}" || die "the timed ADDs"
check "client-1 has the NAT client's tunnel towards egl's ClusterIP" \
	in_pod client-1 ip link show "fou4_$(hex4 "$cip")"
check_eq "plain-1 has no NAT client" "" "$(in_pod plain-1 ip link show fou-dummy 2>/dev/null)"
cni_timed DEL "$RESULTS/del.txt" "${order[@]}" warm-plain warm-client || die "the DELs"

plain_p50=$(ms_of plain- "$RESULTS/add.txt" | pct 50)
plain_p99=$(ms_of plain- "$RESULTS/add.txt" | pct 99)
client_p50=$(ms_of client- "$RESULTS/add.txt" | pct 50)
client_p99=$(ms_of client- "$RESULTS/add.txt" | pct 99)
cplain_p50=$(coild_ms Add plain- | pct 50)
cplain_p99=$(coild_ms Add plain- | pct 99)
cclient_p50=$(coild_ms Add client- | pct 50)
cclient_p99=$(coild_ms Add client- | pct 99)
check_eq "coild logged every timed ADD" "$((2 * PODS))" \
	"$( (coild_ms Add plain-; coild_ms Add client-) | wc -l)"
say "== CNI ADD in the guest: QEMU TCG, 1 vCPU (slower than the host by the factor above), coild in"
say "   Kubernetes mode against the host's API server, $PODS pods of each kind interleaved, ms"
say "$(printf '%-24s %12s %12s %12s %12s' '' 'plugin p50' 'plugin p99' 'coild p50' 'coild p99')"
say "$(printf '%-24s %12s %12s %12s %12s' 'no Egress' "$plain_p50" "$plain_p99" "$cplain_p50" "$cplain_p99")"
say "$(printf '%-24s %12s %12s %12s %12s' 'one Egress (NAT client)' "$client_p50" "$client_p99" "$cclient_p50" "$cclient_p99")"
say "$(printf '%-24s %12s %12s %12s %12s' 'ratio' "$(ratio "$client_p50" "$plain_p50")" \
	"$(ratio "$client_p99" "$plain_p99")" "$(ratio "$cclient_p50" "$cplain_p50")" \
	"$(ratio "$cclient_p99" "$cplain_p99")")"
say "   added by the NAT client (p50): plugin $(awk -v a="$client_p50" -v b="$plain_p50" 'BEGIN { printf "%.1f", a - b }') ms," \
	"coild $(awk -v a="$cclient_p50" -v b="$cplain_p50" 'BEGIN { printf "%.1f", a - b }') ms"
say "   DEL p50 (plugin): no Egress $(ms_of plain- "$RESULTS/del.txt" | pct 50) ms," \
	"one Egress $(ms_of client- "$RESULTS/del.txt" | pct 50) ms"

# --- 2. The gateway with 1 and CLIENTS clients --------------------------------------------
pod_add 1 default gw
# client_reqs FROM TO: the Pod objects of fake clients FROM..TO with Running and an IP each.
client_reqs() {
	local i ip
	for ((i = $1; i <= $2; i++)); do
		ip=10.101.$((i / 250)).$((i % 250 + 1))
		printf 'POST\t/api/v1/namespaces/default/pods\t%s\n' "$(pod_json "far-$i" egb)"
		printf 'PATCH\t/api/v1/namespaces/default/pods/far-%s/status\t%s\n' "$i" \
			"{\"status\":{\"phase\":\"Running\",\"podIP\":\"$ip\",\"podIPs\":[{\"ip\":\"$ip\"}]}}"
	done
}
tunnels() { in_pod gw ip -o link show | grep -c ': fou4_'; }
routes118() { in_pod gw ip route show table 118 | grep -c 'dev fou4_'; }
pod_count() {
	in_pod gw curl -sS -m 10 http://127.0.0.1:8080/metrics |
		awk '$1 == "coil_egress_client_pod_count{egress=\"egb\",namespace=\"default\"}" { print $2 }'
}
settled() { [ "$(tunnels)" -eq "$1" ] && [ "$(routes118)" -eq "$1" ] && [ "$(pod_count)" = "$1" ]; }
meminfo() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }
vm() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/${GW_PID[gw]}/status"; }
mapfile -t reqs < <(client_reqs 1 1)
api_batch "${reqs[@]}" || die "the first client Pod"
slab0=$(meminfo Slab)
avail0=$(meminfo MemAvailable)
gateway_start egb gw
check "the gateway settles with 1 client (tunnel, route, count)" wait_for 60 settled 1
sleep 1
row1=$(printf '%-10s %8s %10s %13s %10s %10s %12s %16s' 1 "$(tunnels)" "$(routes118)" "$(pod_count)" \
	"$(vm VmRSS)" "$(vm VmHWM)" "+$(($(meminfo Slab) - slab0))" "-$((avail0 - $(meminfo MemAvailable)))")
rss1=$(vm VmRSS) hwm1=$(vm VmHWM)
t0=$SECONDS
mapfile -t reqs < <(client_reqs 2 "$CLIENTS")
api_batch "${reqs[@]}" || die "the client Pods"
check "the gateway settles with $CLIENTS clients" wait_for 240 settled "$CLIENTS"
settle_s=$((SECONDS - t0))
sleep 1
rssN=$(vm VmRSS) hwmN=$(vm VmHWM)
rowN=$(printf '%-10s %8s %10s %13s %10s %10s %12s %16s' "$CLIENTS" "$(tunnels)" "$(routes118)" \
	"$(pod_count)" "$rssN" "$hwmN" "+$(($(meminfo Slab) - slab0))" "-$((avail0 - $(meminfo MemAvailable)))")
say "== coil egress gateway (process $(cat "/proc/${GW_PID[gw]}/comm"), real FoU tunnels in the guest kernel)"
say "$(printf '%-10s %8s %10s %13s %10s %10s %12s %16s' clients tunnels 'table 118' 'client_count' 'VmRSS kB' 'VmHWM kB' 'Slab kB' 'MemAvail kB')"
say "$row1"
say "$rowN"
say "   $((CLIENTS - 1)) more clients: VmRSS +$((rssN - rss1)) kB, VmHWM +$((hwmN - hwm1)) kB;" \
	"tunnels and routes made in ${settle_s} s (TCG)"
say "   (Slab and MemAvailable: the whole guest against before the gateway started; rough)"

gateway_stop gw
check_eq "coil egress exits 0 on SIGTERM" 0 "$GW_RC"
daemon_stop 1
check_eq "coild on node1 exits 0 on SIGTERM" 0 "$DAEMON_RC"
finish
