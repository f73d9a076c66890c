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
# in_node N CMD... / in_pod NAME CMD...: CMD in that namespace. The program is resolved to
# its path first: busybox's nsenter would run its own applet of the same name (its `ip`).
in_node() {
	local n=$1 prog
	shift
	prog=$(type -P "$1") || { log "no program $1"; return 127; }
	nsenter --net="/run/netns/$(node_ns "$n")" "$prog" "${@:2}"
}
in_pod() {
	local p=$1 prog
	shift
	prog=$(type -P "$1") || { log "no program $1"; return 127; }
	nsenter --net="/run/netns/$(pod_ns "$p")" "$prog" "${@:2}"
}

# net_up: the bridge, the outside host and masquerade towards the host.
net_up() {
	# What an earlier run stopped in its cleanup may have left in the root namespace.
	local l
	for l in $(ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | grep '^e2e-'); do
		ip link delete "$l" 2>/dev/null
	done
	net_down
	rm -rf /run/e2e # state of an earlier run (kubeconfigs with another API server port)
	mkdir -p /run/e2e
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
	wait_for 60 more_lines_than "${before:-0}" '"coild started"' "$logf" ||
		{ tail -n 20 "$logf" >&2; die "coild on node$n did not start"; }
}
# more_lines_than N PATTERN FILE: FILE has more than N lines with PATTERN.
more_lines_than() {
	local c
	c=$(grep -c -- "$2" "$3" 2>/dev/null)
	[ "${c:-0}" -gt "$1" ]
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

# egress_create NAME SPEC_JSON: an Egress in namespace default; waits for its Deployment and
# Service (made by the host's egress-controller).
egress_create() {
	local body
	body=$(jq -cn --arg name "$1" --argjson spec "$2" '{apiVersion: "coil.cybozu.com/v2",
		kind: "Egress", metadata: {name: $name, namespace: "default"}, spec: $spec}')
	kapi POST /apis/coil.cybozu.com/v2/namespaces/default/egresses "$body" >/dev/null ||
		die "Egress $1"
	wait_for 30 kget "/apis/apps/v1/namespaces/default/deployments/$1" >/dev/null ||
		die "no Deployment for Egress $1"
	wait_for 30 kget "/api/v1/namespaces/default/services/$1" >/dev/null ||
		die "no Service for Egress $1"
}
# egress_update NAME SPEC_PATCH_JSON: merge-patches the Egress's spec.
egress_update() {
	kapi PATCH "/apis/coil.cybozu.com/v2/namespaces/default/egresses/$1" \
		"$(jq -cn --argjson s "$2" '{spec: $s}')" >/dev/null
}

# sa_kubeconfig NAMESPACE SA FILE: a kubeconfig with a token of that ServiceAccount.
sa_kubeconfig() {
	local token
	token=$(kapi POST "/api/v1/namespaces/$1/serviceaccounts/$2/token" \
		'{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{}}' |
		jq -r .status.token) || return 1
	jq -n --arg s "$API" --arg t "$token" '{apiVersion: "v1", kind: "Config",
		"current-context": "t", clusters: [{name: "t", cluster: {server: $s}}],
		users: [{name: "t", user: {token: $t}}],
		contexts: [{name: "t", context: {cluster: "t", user: "t"}}]}' >"$3"
}

# gateway_start EGRESS POD: runs the egress container of the Egress's Deployment in the pod's
# netns as kubelet would: its command and args, its env (COIL_POD_ADDRESSES from the pod's
# addresses, HOSTNAME the pod name), the ServiceAccount's token. Waits for /readyz.
# GW_PID[POD] is its pid.
declare -A GW_PID
gateway_start() {
	local egress=$1 pod=$2 deploy container kc=/run/e2e/$2.kubeconfig addrs
	deploy=$(kget "/apis/apps/v1/namespaces/default/deployments/$egress") || die "Deployment $egress"
	container=$(jq -c '.spec.template.spec.containers[] | select(.name == "egress")' <<<"$deploy")
	[ -e "$kc" ] || sa_kubeconfig default "$(jq -r .spec.template.spec.serviceAccountName <<<"$deploy")" "$kc" ||
		die "token of the gateway's ServiceAccount"
	addrs=$(kget "/api/v1/namespaces/default/pods/$pod" | jq -r '[.status.podIPs[].ip] | join(",")')
	local -a cmd env_args
	mapfile -t cmd < <(jq -r '.command[], .args[]' <<<"$container")
	mapfile -t env_args < <(jq -r '.env[] | select(.value != null) | "\(.name)=\(.value)"' <<<"$container")
	[ "${#cmd[@]}" -gt 0 ] || die "no command in the egress container of $egress: $container"
	ln -sf coil /opt/bin/coil-egress
	env "${env_args[@]}" COIL_POD_ADDRESSES="$addrs" HOSTNAME="$pod" KUBECONFIG="$kc" \
		nsenter --net="/run/netns/$(pod_ns "$pod")" "${cmd[@]}" \
		</dev/null >>"$RESULTS/egress-$pod.log" 2>&1 &
	GW_PID[$pod]=$!
	PIDS_STARTED+=($!)
	wait_for 60 in_pod "$pod" curl -sf -o /dev/null -m 2 http://127.0.0.1:8081/readyz ||
		{ tail -n 20 "$RESULTS/egress-$pod.log" >&2; die "coil egress in $pod is not ready"; }
}
# gateway_stop POD: SIGTERM; the exit status in GW_RC.
GW_RC=
gateway_stop() {
	kill "${GW_PID[$1]}" 2>/dev/null
	wait "${GW_PID[$1]}" 2>/dev/null
	GW_RC=$?
}

# outside_httpd: an HTTP server on the outside host (port 8000, IPv4 and IPv6) whose
# /cgi-bin/addr answers "REMOTE_ADDR BYTES-RECEIVED".
outside_httpd() {
	mkdir -p /run/e2e/www/cgi-bin
	cat >/run/e2e/www/cgi-bin/addr <<'CGI'
#!/bin/sh
# busybox sh: it starts much faster than bash under TCG, once per request
printf 'Content-Type: text/plain\r\n\r\n'
n=$(head -c "${CONTENT_LENGTH:-0}" | wc -c)
addr=${REMOTE_ADDR#[}
addr=${addr%]}
echo "${addr#::ffff:} $n"
CGI
	chmod +x /run/e2e/www/cgi-bin/addr
	start_bg "$RESULTS/httpd.log" ip netns exec e2e-out busybox httpd -f -p 8000 -h /run/e2e/www
	wait_for 10 curl -sf -o /dev/null -m 2 http://192.0.2.1:8000/cgi-bin/addr ||
		die "the outside HTTP server does not answer"
}

# hex4 IPV4: the 8 hex digits of an IPv4 address (the tunnel names fou4_<hex>).
hex4() {
	local IFS=.
	# shellcheck disable=SC2086
	printf '%02x%02x%02x%02x' $1
}
