# The tests of the end-to-end suite (sourced by run.sh; each runs in a subshell with errexit,
# see e2e_run). Named test_<name>; the list and what each proves are in run.sh's header.

# pool_yaml NAME BLOCK-SIZE-BITS V4-CIDR V6-CIDR: an AddressPool of the cluster's family.
pool_yaml() {
	local set
	case $family in
	ipv4) set="{ipv4: $3}" ;;
	ipv6) set="{ipv6: $4}" ;;
	dual-stack) set="{ipv4: $3, ipv6: $4}" ;;
	esac
	printf 'apiVersion: coil.cybozu.com/v2\nkind: AddressPool\nmetadata: {name: %s}\nspec:\n  blockSizeBits: %s\n  subnets: [%s]\n' \
		"$1" "$2" "$set"
}

# ip_in V4-PREFIX V6-PREFIX IPS...: every address starts with the prefix of its family.
ip_in() {
	local v4=$1 v6=$2 ip
	shift 2
	(($#)) || return 1
	for ip in "$@"; do
		if [[ $ip == *:* ]]; then [[ $ip == "$v6"* ]] || return 1; else [[ $ip == "$v4"* ]] || return 1; fi
	done
}

want_ips() { [[ $family == dual-stack ]] && echo 2 || echo 1; }

# all_pairs_ping NAMESPACE PODS...: every pod pings every address of every other pod.
all_pairs_ping() {
	local ns=$1 a b ip
	shift
	for a in "$@"; do
		for b in "$@"; do
			[[ $a != "$b" ]] || continue
			for ip in $(pod_ips "$ns" "$b"); do
				ping_ok "$ns" "$a" "$ip" || fail "$a cannot reach $b at $ip"
				e2e_log "$a -> $b ($ip): ok"
			done
		done
	done
}

test_connectivity() {
	local node pods=() ips
	new_ns e2e-conn
	for node in $(worker_nodes); do
		pod_yaml "conn-$node" e2e-conn "$node" | k apply -f - >/dev/null
		pods+=("conn-$node")
	done
	((${#pods[@]} >= 2)) || fail "fewer than two nodes"
	k -n e2e-conn wait --for=condition=Ready pod --all --timeout=180s >/dev/null
	k -n e2e-conn get pods -o wide
	for node in $(worker_nodes); do
		read -ra ips <<<"$(pod_ips e2e-conn "conn-$node")"
		((${#ips[@]} == $(want_ips))) || fail "conn-$node has addresses '${ips[*]}' on a $family cluster"
	done
	all_pairs_ping e2e-conn "${pods[@]}"
}

test_pool_select() {
	local node ips
	pool_yaml e2e-other 2 10.245.0.0/28 fd00:10:245::/124 | k apply -f - >/dev/null
	new_ns e2e-pool e2e-other
	node=$(worker_nodes | head -1)
	run_pod pooled e2e-pool "$node"
	read -ra ips <<<"$(pod_ips e2e-pool pooled)"
	e2e_log "pod of namespace e2e-pool (annotated coil.cybozu.com/pool=e2e-other): ${ips[*]}"
	ip_in 10.245.0. fd00:10:245:: "${ips[@]}" || fail "addresses ${ips[*]} not from pool e2e-other"
	[[ -n $(k get addressblocks -l "coil.cybozu.com/pool=e2e-other,coil.cybozu.com/node=$node" -o name) ]] ||
		fail "no AddressBlock of pool e2e-other for $node"
}

# denied WHAT WANT-SUBSTRING: kubectl's stdin manifest must be denied with WANT, coil's
# webhook's own wording (the CRD schema's and the API server's are different). The API
# server passes the webhook's 422 Invalid status on as it is ("The AddressPool "x" is
# invalid: spec.subnets[0]: ..."), without "admission webhook ... denied the request".
denied() {
	local what=$1 want=$2 out
	if out=$(k apply -f - 2>&1); then
		fail "$what: accepted ($out)"
	fi
	[[ $out == *"$want"* ]] || fail "$what: not denied with '$want': $out"
	e2e_log "$what: denied: $(grep -v '^Warning:' <<<"$out")"
}

raw_pool() {
	printf 'apiVersion: coil.cybozu.com/v2\nkind: AddressPool\nmetadata: {name: %s}\nspec:\n  blockSizeBits: %s\n  subnets: %s\n' "$@"
}

test_webhooks() {
	raw_pool e2e-bad 0 '[{}]' | denied "a subnet set with no family" "invalid subnet"
	raw_pool e2e-bad 0 '[{ipv4: 10.0.0.0/33}]' | denied "a malformed CIDR" "invalid CIDR address"
	raw_pool e2e-bad 0 '[{ipv4: "fd00::/120"}]' | denied "an IPv6 subnet as ipv4" "invalid IPv4 subnet"
	raw_pool e2e-bad 0 '[{ipv6: 10.0.0.0/24}]' | denied "an IPv4 subnet as ipv6" "invalid IPv6 subnet"
	raw_pool e2e-bad 5 '[{ipv4: 10.0.0.0/30}]' | denied "a subnet narrower than a block" "too narrow subnet"
	raw_pool e2e-bad 0 '[{ipv4: 10.0.0.0/24, ipv6: "fd00::/112"}]' |
		denied "dual-stack families of different sizes" "dual stack subnet must be the same size"
	raw_pool e2e-upd 2 '[{ipv4: 10.247.0.0/24}]' | k apply -f - >/dev/null
	raw_pool e2e-upd 3 '[{ipv4: 10.247.0.0/24}]' | denied "changing blockSizeBits" "unchangeable"
	raw_pool e2e-upd 2 '[{ipv4: 10.247.1.0/24}]' | denied "changing an existing subnet" "unchangeable"
	raw_pool e2e-upd 2 '[{ipv4: 10.247.0.0/24}, {ipv4: 10.247.1.0/24}]' | k apply -f - >/dev/null ||
		fail "appending a subnet was refused"
	raw_pool e2e-upd 2 '[{ipv4: 10.247.0.0/24}]' | denied "removing a subnet" "unshrinkable"
	k delete addresspool e2e-upd >/dev/null
}

# sandbox_error NAMESPACE POD: the pod's events carry coil's allocation error.
sandbox_error() {
	k -n "$1" get events --field-selector "involvedObject.name=$2" -o jsonpath='{.items[*].message}' |
		grep -q 'failed to allocate address'
}

container_creating() {
	[[ $(k -n "$1" get pod "$2" -o jsonpath='{.status.phase}/{.status.containerStatuses[0].state.waiting.reason}') == Pending/ContainerCreating ]]
}

test_exhaustion() {
	local node
	# Two addresses (two one-address blocks) in all.
	pool_yaml e2e-tiny 0 10.246.0.0/31 fd00:10:246::/127 | k apply -f - >/dev/null
	new_ns e2e-exhaust e2e-tiny
	node=$(worker_nodes | head -1)
	run_pod full-1 e2e-exhaust "$node"
	run_pod full-2 e2e-exhaust "$node"
	pod_yaml waiting e2e-exhaust "$node" | k apply -f - >/dev/null
	wait_until 120 "coil's error in the events of e2e-exhaust/waiting" sandbox_error e2e-exhaust waiting
	container_creating e2e-exhaust waiting || fail "waiting: not ContainerCreating"
	e2e_log "waiting: ContainerCreating; event: $(k -n e2e-exhaust get events --field-selector involvedObject.name=waiting \
		-o jsonpath='{.items[?(@.reason=="FailedCreatePodSandBox")].message}' | grep -o 'failed to allocate address[^"]*' | head -1)"
	k -n e2e-exhaust delete pod full-1 --wait=true >/dev/null
	k -n e2e-exhaust wait --for=condition=Ready pod/waiting --timeout=300s >/dev/null ||
		fail "waiting did not start after an address was freed"
	e2e_log "waiting: Ready at $(pod_ips e2e-exhaust waiting) after full-1 was deleted"
}

fake_blocks() { k get addressblocks -l coil.cybozu.com/node=e2e-fake-node -o name; }
has_fake_blocks() { [[ -n $(fake_blocks) ]]; }
no_fake_blocks() { [[ -z $(fake_blocks) ]]; }

test_node_gc() {
	k apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Node
metadata: {name: e2e-fake-node, labels: {kubernetes.io/hostname: e2e-fake-node}}
spec:
  taints: [{key: e2e-fake, effect: NoSchedule}]
EOF
	k apply -f - >/dev/null <<EOF
apiVersion: coil.cybozu.com/v2
kind: BlockRequest
metadata: {name: e2e-fake-request}
spec: {nodeName: e2e-fake-node, poolName: default}
EOF
	wait_until 60 "a block for e2e-fake-node" has_fake_blocks
	e2e_log "blocks of e2e-fake-node: $(fake_blocks | tr '\n' ' ')"
	k delete blockrequest e2e-fake-request >/dev/null
	k delete node e2e-fake-node >/dev/null
	wait_until 120 "the blocks of the deleted node to be collected" no_fake_blocks
}

# all_pod_ips: the addresses of every pod that has its own network.
all_pod_ips() {
	k get pods -A -o json | jq -r '.items[] | select(.spec.hostNetwork != true) | .status.podIPs[]?.ip'
}

test_coild_restart() {
	local pods=() node pod before=() after dups
	for node in $(worker_nodes); do
		pods+=("conn-$node")
		before+=("$(pod_ips e2e-conn "conn-$node")")
	done
	save_logs
	k -n kube-system rollout restart daemonset/coild >/dev/null
	k -n kube-system rollout status daemonset/coild --timeout=300s
	local i=0
	for pod in "${pods[@]}"; do
		after=$(pod_ips e2e-conn "$pod")
		[[ $after == "${before[i]}" ]] || fail "$pod: addresses changed from ${before[i]} to $after"
		for ip in $after; do
			in_pod e2e-conn "$pod" ip addr show eth0 | grep -qF " $ip/" || fail "$pod: eth0 lost $ip"
		done
		i=$((i + 1))
	done
	all_pairs_ping e2e-conn "${pods[@]}"
	# The restarted coild must know the addresses in use: new pods get fresh ones.
	for node in $(worker_nodes); do
		pod_yaml "after-restart-$node" e2e-conn "$node" | k apply -f - >/dev/null
	done
	k -n e2e-conn wait --for=condition=Ready pod --all --timeout=180s >/dev/null
	dups=$(all_pod_ips | sort | uniq -d)
	[[ -z $dups ]] || fail "addresses held by two pods: $dups"
	all_pairs_ping e2e-conn "${pods[0]}" $(for node in $(worker_nodes); do echo "after-restart-$node"; done)
}

leader() { k -n kube-system get lease coil-ipam-leader -o jsonpath='{.spec.holderIdentity}'; }

# new_leader OLD: a live pod other than OLD holds the lease.
new_leader() {
	local now
	now=$(leader)
	[[ -n $now && $now != "$1" ]] && k -n kube-system get pod "$now" >/dev/null 2>&1
}

test_leader() {
	local old node
	old=$(leader)
	[[ -n $old ]] || fail "no holder of lease kube-system/coil-ipam-leader"
	k -n kube-system get pod "$old" >/dev/null || fail "the lease holder $old is no pod"
	save_logs
	e2e_log "leader: $old; deleting it"
	k -n kube-system delete pod "$old" --wait=false >/dev/null
	wait_until 120 "another coil-ipam-controller to take the lease" new_leader "$old"
	e2e_log "new leader: $(leader)"
	k -n kube-system rollout status deployment/coil-ipam-controller --timeout=180s
	# Pods of the default pool (one address a block) need the new leader to carve blocks.
	new_ns e2e-leader
	for node in $(worker_nodes); do
		pod_yaml "after-leader-$node" e2e-leader "$node" | k apply -f - >/dev/null
	done
	k -n e2e-leader wait --for=condition=Ready pod --all --timeout=180s >/dev/null
}

scale_yaml() {
	cat <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: e2e-scale, namespace: e2e-scale}
spec:
  replicas: $2
  selector: {matchLabels: {app: e2e-scale}}
  template:
    metadata: {labels: {app: e2e-scale}}
    spec:
EOF
	pod_spec "$1" "      "
}

test_scale() {
	local node replicas=100 start_ns end_ns since coild pods_json adds
	node=$(worker_nodes | tail -1)
	new_ns e2e-scale
	coild=$(k -n kube-system get pods -l app.kubernetes.io/component=coild \
		--field-selector "spec.nodeName=$node" -o jsonpath='{.items[0].metadata.name}')
	since=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	start_ns=$(date +%s%N)
	scale_yaml "$node" "$replicas" | k apply -f - >/dev/null
	k -n e2e-scale rollout status deployment/e2e-scale --timeout=900s >/dev/null ||
		fail "$(k -n e2e-scale get pods --no-headers | awk '{print $3}' | sort | uniq -c | tr '\n' ' ')"
	end_ns=$(date +%s%N)
	pods_json=$artifacts/scale-pods.json
	k -n e2e-scale get pods -o json >"$pods_json"
	[[ $(jq '[.items[] | select(.status.conditions[]? | .type == "Ready" and .status == "True")] | length' "$pods_json") == "$replicas" ]] ||
		fail "not $replicas pods Ready"
	adds=$(k -n kube-system logs "$coild" -c coild --since-time="$since" |
		jq -c 'select(((.["grpc.method"] // "") | test("Add$")) and (.["grpc.request.pod.namespace"] == "e2e-scale")) | [.ts - (.["grpc.time_ms"] | tonumber) / 1000, .ts]' |
		jq -s '{n: length, sum: ((map(.[1] - .[0]) | add // 0) * 1000), max: ((map(.[1] - .[0]) | max // 0) * 1000),
			busy: (sort | reduce .[] as $i ({end: -1, tot: 0};
				if $i[0] > .end then {end: $i[1], tot: (.tot + $i[1] - $i[0])}
				elif $i[1] > .end then {end: $i[1], tot: (.tot + $i[1] - .end)} else . end) | .tot)}')
	jq -n --slurpfile all "$pods_json" --argjson adds "$adds" --arg node "$node" \
		--argjson wall "$(((end_ns - start_ns) / 1000000))" '
		def t: sub("\\.[0-9]+"; "") | fromdateiso8601;
		$all[0] as $pods |
		[$pods.items[] | ((.status.conditions[] | select(.type == "Ready") | .lastTransitionTime | t) - (.metadata.creationTimestamp | t))] as $startup
		| "scale: \($pods.items | length) pods on \($node): apply to all Ready \($wall / 1000) s",
		  "scale: pod startup (created to Ready, 1 s resolution): mean \(($startup | add) / ($startup | length)) s, max \($startup | max) s",
		  "scale: CNI ADD in coild: \($adds.n) calls, total \($adds.sum / 1000 | . * 100 | round / 100) s, mean \(if $adds.n > 0 then ($adds.sum / $adds.n | round) else 0 end) ms, max \($adds.max | round) ms",
		  "scale: CNI share of the pods'\'' startup time: \(if ($startup | add) > 0 then ($adds.sum / 1000 / ($startup | add) * 1000 | round / 10) else "n/a" end) % (ADD time summed over pods / startup time summed over pods)",
		  "scale: coild was serving at least one ADD during \($adds.busy * 10 | round / 10) s of the \($wall / 1000) s (\($adds.busy * 1000 / $wall * 100 | round) %)"' -r |
		tee "$artifacts/scale.txt" >&2
	[[ $(jq .n <<<"$adds") -ge $replicas ]] || fail "coild on $node logged $(jq .n <<<"$adds") ADDs for $replicas pods"
	start_ns=$(date +%s%N)
	k delete namespace e2e-scale --wait=true --timeout=600s >/dev/null
	e2e_log "scale: namespace with $replicas pods deleted in $((($(date +%s%N) - start_ns) / 1000000)) ms"
}

# test_api_warnings: the API server's Warning header for the finalizer coil.cybozu.com of the
# AddressBlocks coil-ipam-controller creates reached the controller's log, word for word as the
# test API server (test/apiserver) also sends it, and did not fail the creates: a pod started
# here got its address from a block carved just now.
test_api_warnings() {
	local want='metadata.finalizers: "coil.cybozu.com": prefer a domain-qualified finalizer name including a path (/) to avoid accidental conflicts with other finalizer writers'
	new_ns e2e-warn
	run_pod warned e2e-warn "$(worker_nodes | head -1)"
	save_logs
	grep -h '"API server warning"' "$artifacts"/logs/coil-ipam-controller-*.log | sed 's/^[^{]*//' |
		jq -e --arg want "$want" -s 'any(.[]; .method == "POST" and .warning == $want)' >/dev/null ||
		fail "no coil-ipam-controller log has the API server's finalizer warning '$want'"
	e2e_log "coil-ipam-controller logged the API server's finalizer warning and carved its blocks"
}

# test_rbac: no coil program logged an RBAC denial (403 / "forbidden") in any pod the suite saw,
# including the ones it deleted (their logs were kept before).
test_rbac() {
	local hits
	save_logs
	ls "$artifacts/logs" | grep -q . || fail "no coil logs were collected"
	hits=$(grep -iE 'HTTP 403|forbidden' "$artifacts"/logs/*.log || true)
	[[ -z $hits ]] || fail "RBAC denials in coil's logs:
$hits"
	e2e_log "no RBAC denial in $(ls "$artifacts/logs" | wc -l) coil logs"
}
