# Helpers of the end-to-end guest scenarios (sourced after lib.sh), run by
# test/guest/controlplane.py: the API server and the controllers are on the host (reached at
# $API, 10.0.2.2), the nodes and pods here. The scenario plays kubelet: it makes the pods'
# network namespaces, calls the coil plugin in the node's namespace, and writes Pod objects.
#
# Layout: the guest's root namespace is the "network": bridge e2e-br 10.99.0.254/24
# fd99::fe/64, with routes to the pods it is told about (route_pod) and masquerade out of
# eth0 so that nodes and pods reach the host. Node N (netns e2e-nodeN, Node object nodeN):
# eth0 10.99.0.N/24 fd99::N/64, default routes via the bridge, `coil daemon` in Kubernetes
# mode. Pods: netns e2e-pod-NAME. An "outside" host: netns e2e-out, 192.0.2.1/24 and
# 2001:db8::1/64 on the bridge's other leg e2e-outbr (root: 192.0.2.254, 2001:db8::fe).
# shellcheck shell=bash

CP=/share/cp
[ -r "$CP/cp.env" ] || die "no $CP/cp.env: run this scenario through test/guest/controlplane.py"
# shellcheck source=/dev/null
. "$CP/cp.env"
need curl jq ip iptables nsenter

# kapi METHOD PATH [JSON]: one request as the administrator; prints the body, fails on >= 300.
kapi() {
	local method=$1 path=$2 body=${3:-} out code ctype=application/json
	[ "$method" != PATCH ] || ctype=application/merge-patch+json
	out=$(curl -sS -g -X "$method" -H "Content-Type: $ctype" ${body:+--data-binary "$body"} \
		-w '\n%{http_code}' "$API$path") || return 1
	code=${out##*$'\n'}
	printf '%s\n' "${out%$'\n'*}"
	[ "$code" -lt 300 ] || { log "$method $path: HTTP $code: ${out%$'\n'*}"; return 1; }
}
# kget PATH: the object or nothing (status 1) when it is not there.
kget() { curl -sS -g -f "$API$1" 2>/dev/null; }

node_ns() { echo "e2e-node$1"; }
pod_ns() { echo "e2e-pod-$1"; }
in_node() {
	local n=$1
	shift
	nsenter --net="/run/netns/$(node_ns "$n")" "$@"
}
in_pod() {
	local p=$1
	shift
	nsenter --net="/run/netns/$(pod_ns "$p")" "$@"
}

# net_up: the bridge, the outside host and masquerade towards the host.
net_up() {
	ip link add e2e-br type bridge && ip link set e2e-br up || die "bridge e2e-br"
	ip addr add 10.99.0.254/24 dev e2e-br
	ip addr add fd99::fe/64 dev e2e-br nodad
	iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE -m comment --comment e2e
	new_netns e2e-out
	ip -n e2e-out link add eth0 type veth peer name e2e-outbr netns 1
	ip link set e2e-outbr up
	ip addr add 192.0.2.254/24 dev e2e-outbr
	ip addr add 2001:db8::fe/64 dev e2e-outbr nodad
	ip -n e2e-out link set eth0 up
	ip -n e2e-out addr add 192.0.2.1/24 dev eth0
	ip -n e2e-out addr add 2001:db8::1/64 dev eth0 nodad
	ip -n e2e-out route add default via 192.0.2.254
	ip -n e2e-out -6 route add default via 2001:db8::fe
}
net_down() {
	ip link delete e2e-br 2>/dev/null
	iptables -t nat -D POSTROUTING -o eth0 -j MASQUERADE -m comment --comment e2e 2>/dev/null
}

# node_up N: the node's namespace on the bridge and its coild (extra daemon flags after N).
NODE_PIDS=()
node_up() {
	local n=$1 ns
	shift
	ns=$(node_ns "$n")
	new_netns "$ns"
	ip -n "$ns" link add eth0 type veth peer name "e2e-n$n" netns 1
	ip link set "e2e-n$n" master e2e-br up
	ip -n "$ns" link set eth0 up
	ip -n "$ns" addr add "10.99.0.$n/24" dev eth0
	ip -n "$ns" addr add "fd99::$n/64" dev eth0 nodad
	ip -n "$ns" route add default via 10.99.0.254
	ip -n "$ns" -6 route add default via fd99::fe
	in_node "$n" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	mkdir -p "/run/e2e/node$n"
	daemon_start "$n" "$@"
}
# daemon_start N [FLAGS...]: coild of node N; waits for its "coild started" line.
daemon_start() {
	local n=$1 before
	shift
	local logf=$RESULTS/coild-node$n.log
	before=$(grep -c '"coild started"' "$logf" 2>/dev/null)
	COIL_NODE_NAME=node$n nsenter --net="/run/netns/$(node_ns "$n")" "$COIL" daemon \
		--kubeconfig "$CP/coild.kubeconfig" --socket "/run/e2e/node$n/coild.sock" \
		--state-dir "/run/e2e/node$n/state" --metrics-addr 127.0.0.1:9384 \
		--health-addr 127.0.0.1:9385 "$@" </dev/null >>"$logf" 2>&1 &
	NODE_PIDS[n]=$!
	PIDS_STARTED+=($!)
	wait_for 60 bash -c "[ \"\$(grep -c '\"coild started\"' '$logf')\" -gt '${before:-0}' ]" ||
		{ tail -n 20 "$logf" >&2; die "coild on node$n did not start"; }
}
# daemon_stop N: SIGTERM to node N's coild; its exit status in DAEMON_RC.
DAEMON_RC=
daemon_stop() {
	local n=$1
	kill "${NODE_PIDS[n]}" 2>/dev/null
	wait "${NODE_PIDS[n]}" 2>/dev/null
	DAEMON_RC=$?
}

# pod_object NAMESPACE NAME NODE [LABELS_JSON [ANNOTATIONS_JSON]]: the Pod object, as the
# scheduler would have bound it.
pod_object() {
	local body
	body=$(jq -cn --arg ns "$1" --arg name "$2" --arg node "$3" --argjson l "${4:-{\}}" \
		--argjson a "${5:-{\}}" '{apiVersion: "v1", kind: "Pod",
		metadata: {name: $name, namespace: $ns, labels: $l, annotations: $a},
		spec: {nodeName: $node, containers: [{name: "c", image: "busybox"}]}}')
	kapi POST "/api/v1/namespaces/$1/pods" "$body" >/dev/null
}
# pod_running NAMESPACE NAME IPV4 [IPV6]: the status a kubelet would report.
pod_running() {
	local ips
	ips=$(jq -cn --arg a "$3" --arg b "${4:-}" '[$a, $b] | map(select(. != "")) | map({ip: .})')
	kapi PATCH "/api/v1/namespaces/$1/pods/$2/status" \
		"$(jq -cn --argjson ips "$ips" '{status: {phase: "Running", podIP: $ips[0].ip,
			podIPs: $ips, conditions: [{type: "Ready", status: "True"}]}}')" >/dev/null
}

# cni N COMMAND POD NAMESPACE: the plugin in node N's namespace, as a runtime calls it.
cni() {
	local n=$1 cmd=$2 pod=$3 podns=$4
	in_node "$n" env -i PATH="$PATH" LD_LIBRARY_PATH="$LD_LIBRARY_PATH" CNI_COMMAND="$cmd" \
		CNI_CONTAINERID="cid-$pod" CNI_NETNS="/run/netns/$(pod_ns "$pod")" CNI_IFNAME=eth0 \
		CNI_PATH=/opt/bin:/usr/lib/cni \
		CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=$podns;K8S_POD_NAME=$pod" "$COIL" \
		<<<"$(printf '{"cniVersion":"1.0.0","name":"k8s-pod-network","type":"coil","socket":"%s"}' \
			"/run/e2e/node$n/coild.sock")"
}

# pod_add N NAMESPACE NAME [LABELS_JSON [ANNOTATIONS_JSON]]: Pod object, netns, CNI ADD, the
# Running status with the addresses, and routes to it in the network. Sets POD_V4, POD_V6.
POD_V4=
POD_V6=
pod_add() {
	local n=$1 podns=$2 name=$3 result
	pod_object "$podns" "$name" "node$n" "${4:-{\}}" "${5:-{\}}" || die "Pod $podns/$name"
	new_netns "$(pod_ns "$name")"
	result=$(cni "$n" ADD "$name" "$podns") || die "CNI ADD of $name failed: $result"
	POD_V4=$(jq -r '.ips[].address | select(contains(".")) | split("/")[0]' <<<"$result")
	POD_V6=$(jq -r '.ips[].address | select(contains(":")) | split("/")[0]' <<<"$result")
	pod_running "$podns" "$name" "$POD_V4" "$POD_V6" || die "status of $name"
	[ -z "$POD_V4" ] || ip route replace "$POD_V4/32" via "10.99.0.$n"
	[ -z "$POD_V6" ] || ip -6 route replace "$POD_V6/128" via "fd99::$n"
}
pod_del() {
	local n=$1 podns=$2 name=$3
	cni "$n" DEL "$name" "$podns" >/dev/null || fail "CNI DEL of $name"
	kapi DELETE "/api/v1/namespaces/$podns/pods/$name" >/dev/null
	ip netns delete "$(pod_ns "$name")" 2>/dev/null
}

# cluster_ip_dnat N CLUSTERIP POD_IP: kube-proxy's part in node N (ClusterIP to one pod).
cluster_ip_dnat() {
	local fam=iptables
	[[ $2 != *:* ]] || fam=ip6tables
	in_node "$1" "$fam" -t nat -A PREROUTING -d "$2" -j DNAT --to-destination "$3"
	in_node "$1" "$fam" -t nat -A OUTPUT -d "$2" -j DNAT --to-destination "$3"
}

cleanup_kube() {
	local p
	for p in "${NODE_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	net_down
}
trap 'cleanup_kube; cleanup' EXIT
