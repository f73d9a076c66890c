#!/bin/bash
# Coil v1 to v2 on the running test cluster, end to end, in two stages around deploy-coil.sh:
#
#   test/realcluster/migrate.sh v1 [--coil PATH]       # before coil v2 is deployed
#   test/realcluster/deploy-coil.sh
#   test/realcluster/migrate.sh replace [--coil PATH]  # then the e2e suite may run
#
# v1: the cluster plays a Coil v1 cluster. v1's etcd (Debian's etcd-server on the control-plane
# netns' loopback, port 2479) holds the pools `v1-apps` (two subnets) and `v1-batch` (no
# namespace of that name: nothing to annotate), one block of each on every node, and a block
# of a pool v1 deleted. v1 had no `default` pool here: v1 is IPv4 only, and an IPv4 `default`
# AddressPool would block the dual-stack one deploy-coil.sh applies for the e2e suite (a
# pool's subnets cannot change). On every node the stand-in for v1's data path,
# ptp + host-local, hands out the addresses of the node's v1-apps block: the pods of a
# Deployment spread over the nodes and of a StatefulSet start with v1 addresses. v1's own
# objects (migrate-v1.yaml) run beside them. Then `coil migrate dump`: v1's objects must be
# gone, the namespace annotated, v1's etcd no longer needed; the CRDs and the dump are applied
# and the reserved blocks read back; the pods still run, unchanged.
#
# replace (after deploy-coil.sh): the pods still run unchanged under v2 and reach each other
# across nodes through the reserved blocks' routes; `coil migrate replace` answered `y`; then
# every pod has been recreated with an address of a v2 block of its pool on its node (none of
# v1's), no reserved block remains, coild was restarted; the namespace is removed again so
# that the e2e suite finds the cluster as deploy-coil.sh left it.
#
# Runs itself in the control-plane netns (cluster.sh exec). State between the stages:
# $COIL_REALCLUSTER_DIR/migrate/.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
RC_DIR=${COIL_REALCLUSTER_DIR:-/var/tmp/coil-realcluster}
stage=${1:-}
coil=$REPO/build/cmd/coil
[[ ${2:-} != --coil ]] || coil=$3
case $stage in v1 | replace) ;; *)
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
	;;
esac
[[ -x $coil ]] || {
	echo "migrate: no coil binary at $coil (build it first)" >&2
	exit 1
}
[[ -n ${COIL_MIGRATE_IN_CP:-} ]] ||
	exec "$HERE/cluster.sh" exec env COIL_MIGRATE_IN_CP=1 "$HERE/migrate.sh" "$stage" --coil "$coil"

STATE=$RC_DIR/migrate
NS=v1-apps
V1_ETCD=127.0.0.1:2479
nodes=$(cat "$RC_DIR/nodes-count")
start=$SECONDS

log() { printf 'migrate: [%3d s] %s\n' $((SECONDS - start)) "$*" >&2; }
die() {
	log "FAIL: $*"
	exit 1
}
kc() { kubectl "$@"; }
migrate() { "$coil" migrate --kubeconfig "$KUBECONFIG" "$@"; }

# ---- v1's data --------------------------------------------------------------------------

# Node N's v1 block of pool v1-apps (subnets 10.248.0.0/28 and 10.248.1.0/24, 8-address
# blocks): node-1 the first block of the first subnet, the others blocks of the second, so
# the index counts across subnets (2 blocks in the first one).
app_block() { (($1 == 1)) && echo 10.248.0.0/29 || echo "10.248.1.$((8 * ($1 - 1)))/29"; }
app_index() { (($1 == 1)) && echo 0 || echo $((1 + $1)); }
# Node N's v1 block of pool v1-batch (10.248.2.0/24, 4-address blocks).
batch_block() { echo "10.248.2.$((4 * ($1 - 1)))/30"; }

# nodes_json FUNCTION NODES...: {"node-N": [FUNCTION N]} for the given node numbers.
nodes_json() {
	local fn=$1 n
	shift
	for n in "$@"; do
		jq -n --arg node "node-$n" --arg b "$("$fn" "$n")" '{($node): [$b]}'
	done | jq -s 'add // {}'
}

etcd_put() {
	curl -sf "http://$V1_ETCD/v3/kv/put" -d "$(jq -nc --arg k "$(printf %s "/coil/$1" | base64 -w0)" \
		--arg v "$(printf %s "$2" | base64 -w0)" '{key: $k, value: $v}')" >/dev/null
}

etcd_pid=
stop_etcd() {
	[[ -z $etcd_pid ]] || kill "$etcd_pid" 2>/dev/null || true
	[[ -z $etcd_pid ]] || wait "$etcd_pid" 2>/dev/null || true
	rm -rf "$STATE/etcd"
}

# v1's etcd, seeded as v1 left it: pools, subnets, and the blocks per subnet (free and per
# node).
start_v1_etcd() {
	local rest n
	mkdir -p "$STATE/etcd"
	etcd --name v1 --data-dir "$STATE/etcd/data" --logger=zap --log-level=warn \
		--listen-client-urls "http://$V1_ETCD" --advertise-client-urls "http://$V1_ETCD" \
		--listen-peer-urls http://127.0.0.1:2480 --initial-advertise-peer-urls http://127.0.0.1:2480 \
		--initial-cluster v1=http://127.0.0.1:2480 >"$STATE/etcd.log" 2>&1 &
	etcd_pid=$!
	trap stop_etcd EXIT
	for _ in $(seq 40); do
		curl -sf "http://$V1_ETCD/health" >/dev/null && break
		sleep 0.25
	done
	curl -sf "http://$V1_ETCD/health" >/dev/null || die "v1's etcd did not start: $(tail -5 "$STATE/etcd.log")"
	rest=$(seq 2 "$nodes")
	etcd_put pool/v1-apps '{"subnets":["10.248.0.0/28","10.248.1.0/24"],"block_size":3}'
	etcd_put pool/v1-batch '{"subnets":["10.248.2.0/24"],"block_size":2}'
	for n in 10.248.0.0 10.248.1.0 10.248.2.0; do etcd_put "subnet/$n" ""; done
	etcd_put block/v1-batch/10.248.2.0 "$(jq -nc --argjson n "$(nodes_json batch_block $(seq "$nodes"))" \
		'{free: ["10.248.2.252/30"], nodes: $n}')"
	etcd_put block/v1-apps/10.248.0.0 "$(jq -nc --argjson n "$(nodes_json app_block 1)" \
		'{free: ["10.248.0.8/29"], nodes: $n}')"
	etcd_put block/v1-apps/10.248.1.0 "$(jq -nc --argjson n "$(nodes_json app_block $rest)" \
		'{free: ["10.248.1.248/29"], nodes: $n}')"
	# A block of a pool v1 deleted: dump skips it.
	etcd_put block/gone/10.249.0.0 '{"free":[],"nodes":{"node-1":["10.249.0.0/30"]}}'
}

# v1's data path on node N: ptp + host-local with the node's v1-apps block. The file sorts
# before the reference plugins' conflist, so containerd takes it; coil-installer removes both.
v1_cni() {
	local n=$1 dir
	dir=$RC_DIR/nodes/node-$n
	jq -n --arg data "$dir/host-local-v1" --arg block "$(app_block "$n")" '{
		cniVersion: "1.0.0", name: "coil-v1-standin",
		plugins: [{type: "ptp", ipMasq: false, ipam: {type: "host-local", dataDir: $data,
			ranges: [[{subnet: $block}]], routes: [{dst: "0.0.0.0/0"}]}}]}' >"$dir/cni-conf/.05-coil-v1.tmp"
	mv "$dir/cni-conf/.05-coil-v1.tmp" "$dir/cni-conf/05-coil-v1.conflist"
}

# The applications that run through the migration: a Deployment with a pod on every node and
# a StatefulSet (recreated under the same name, which replace must tell by its uid).
workload_yaml() {
	local spec
	spec='      terminationGracePeriodSeconds: 1
      containers:
      - name: app
        image: localhost/coil-test/sandbox:1
        imagePullPolicy: Never
        command: [/bin/busybox, sleep, "100000"]'
	cat <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: $NS}
spec:
  replicas: $nodes
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      topologySpreadConstraints:
      - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule,
         labelSelector: {matchLabels: {app: web}}}
$spec
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: $NS}
spec: {clusterIP: None, selector: {app: db}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: $NS}
spec:
  replicas: 1
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
$spec
EOF
}

# ---- checks -----------------------------------------------------------------------------

ip2int() {
	local IFS=. a b c d
	read -r a b c d <<<"$1"
	echo $(((a << 24) | (b << 16) | (c << 8) | d))
}
# in_cidr IP CIDR
in_cidr() {
	local bits=${2#*/} mask
	mask=$(((0xffffffff << (32 - bits)) & 0xffffffff))
	(((($(ip2int "$1") ^ $(ip2int "${2%/*}")) & mask) == 0))
}

# pods_json: the pods of the namespace, sorted by name.
pods_json() {
	kc -n "$NS" get pods -o json | jq -S '[.items[] | {name: .metadata.name, uid: .metadata.uid,
		node: .spec.nodeName, ip: .status.podIP, phase: .status.phase,
		ready: ([.status.conditions[]? | select(.type == "Ready") | .status] == ["True"]),
		restarts: ([.status.containerStatuses[]?.restartCount] | add // 0)}] | sort_by(.name)'
}

# same_pods: the pods v1 started still run, with the same uid, node, address, no restart.
same_pods() {
	local now
	now=$(pods_json)
	jq -e --argjson now "$now" '. == $now' "$STATE/pods-v1.json" >/dev/null ||
		die "the pods changed: before $(jq -c . "$STATE/pods-v1.json"), now $(jq -c . <<<"$now")"
	jq -e 'all(.[]; .phase == "Running" and .ready)' <<<"$now" >/dev/null || die "not all pods Ready: $now"
	log "pods unchanged: $(jq -r 'map("\(.name)@\(.node)=\(.ip)") | join(" ")' <<<"$now")"
}

# ping_pods FROM TO-IP: one answered echo from pod FROM of the namespace.
ping_pods() {
	kc -n "$NS" exec "$1" -- /bin/busybox ping -c1 -W3 "$2" >/dev/null ||
		die "$1 cannot reach $2"
	log "$1 -> $2: ok"
}

# ping_across PODS-JSON: the first pod pings a pod on another node.
ping_across() {
	local from to
	read -r from to < <(jq -r '.[0] as $a | (map(select(.node != $a.node))[0]) as $b | "\($a.name) \($b.ip)"' <<<"$1")
	[[ $to != null ]] || die "no two pods on different nodes: $1"
	ping_pods "$from" "$to"
}

v1_objects=(daemonset/coil-node deployment/coil-controllers configmap/coil-config
	clusterrolebinding/coil-node clusterrolebinding/coil-controllers clusterrole/coil-node
	clusterrole/coil-controllers serviceaccount/coil-node serviceaccount/coil-controller)

expected_blocks() {
	local n
	for n in $(seq "$nodes"); do
		echo "v1-batch-$((n - 1))-v1 node-$n v1-batch $(batch_block "$n")"
		echo "v1-apps-$(app_index "$n")-v1 node-$n v1-apps $(app_block "$n")"
	done | sort
}

reserved_blocks() {
	kc get addressblocks -l coil.cybozu.com/reserved=true -o json | jq -r '.items[] |
		"\(.metadata.name) \(.metadata.labels["coil.cybozu.com/node"]) \(.metadata.labels["coil.cybozu.com/pool"]) \(.ipv4)"' | sort
}

# ---- the stages -------------------------------------------------------------------------

stage_v1() {
	local n obj pods t
	rm -rf "$STATE"
	mkdir -p "$STATE"
	start_v1_etcd
	for n in $(seq "$nodes"); do v1_cni "$n"; done
	kc apply -f "$HERE/migrate-v1.yaml" >/dev/null
	kc create namespace "$NS" >/dev/null
	for _ in $(seq 60); do kc -n "$NS" get serviceaccount default >/dev/null 2>&1 && break || sleep 0.5; done
	workload_yaml | kc apply -f - >/dev/null
	kc -n kube-system rollout status daemonset/coil-node --timeout=180s >/dev/null
	kc -n kube-system rollout status deployment/coil-controllers --timeout=180s >/dev/null
	kc -n "$NS" rollout status deployment/web --timeout=180s >/dev/null
	kc -n "$NS" rollout status statefulset/db --timeout=180s >/dev/null
	pods=$(pods_json)
	jq . <<<"$pods" >"$STATE/pods-v1.json"
	for n in $(seq "$nodes"); do
		for ip in $(jq -r --arg node "node-$n" '.[] | select(.node == $node) | .ip' <<<"$pods"); do
			in_cidr "$ip" "$(app_block "$n")" || die "pod address $ip on node-$n is not of its v1 block $(app_block "$n")"
		done
	done
	(($(jq '[.[].node] | unique | length' <<<"$pods") == nodes)) || die "the pods are not on every node: $pods"
	log "v1 running: $(jq -r 'map("\(.name)@\(.node)=\(.ip)") | join(" ")' <<<"$pods"); v1's objects: ${v1_objects[*]}"
	kc -n kube-system get "${v1_objects[@]}" >/dev/null

	log "coil migrate dump"
	t=$SECONDS
	migrate dump --etcd-endpoints "http://$V1_ETCD" >"$STATE/data.yaml" 2>"$STATE/dump.log" || {
		cat "$STATE/dump.log" >&2
		die "dump failed"
	}
	sed 's/^/  dump: /' "$STATE/dump.log" >&2
	log "dump took $((SECONDS - t)) s"
	grep -qF "skipping a reserved block from non-existent pool gone for node node-1" "$STATE/dump.log" ||
		die "dump did not skip the block of the deleted pool"
	for obj in "${v1_objects[@]}"; do
		if kc -n kube-system get "$obj" >/dev/null 2>&1; then die "$obj is still there after dump"; fi
	done
	[[ -z $(kc -n kube-system get pods -l 'app.kubernetes.io/name in (coil-node,coil-controllers)' -o name) ]] ||
		die "pods of v1 still there after dump"
	[[ $(kc get namespace "$NS" -o jsonpath='{.metadata.annotations.coil\.cybozu\.com/pool}') == "$NS" ]] ||
		die "namespace $NS not annotated with its pool"
	! grep -q 'annotated namespace v1-batch' "$STATE/dump.log" || die "dump annotated a namespace that does not exist"
	stop_etcd
	log "v1 uninstalled, namespace $NS annotated; applying the CRDs and the dump"
	(cd "$REPO" && kc apply -k deploy/crd >/dev/null)
	kc wait --for=condition=Established crd/addresspools.coil.cybozu.com crd/addressblocks.coil.cybozu.com \
		--timeout=60s >/dev/null
	kc apply -f "$STATE/data.yaml" >/dev/null
	[[ $(reserved_blocks) == "$(expected_blocks)" ]] ||
		die "reserved blocks: $(reserved_blocks | tr '\n' ';'), want $(expected_blocks | tr '\n' ';')"
	[[ $(kc get addresspool v1-apps -o jsonpath='{.spec.blockSizeBits} {.spec.subnets[*].ipv4}') == "3 10.248.0.0/28 10.248.1.0/24" ]] ||
		die "AddressPool v1-apps: $(kc get addresspool v1-apps -o jsonpath='{.spec}')"
	log "reserved blocks: $(reserved_blocks | cut -d' ' -f1 | tr '\n' ' ')"
	same_pods
	log "stage v1 done in $((SECONDS - start)) s"
}

# coild_left UIDS: prints (and succeeds) when a coild pod of UIDS is still there.
coild_left() {
	local uid left=
	for uid in $(kc -n kube-system get pods -l app.kubernetes.io/component=coild -o jsonpath='{.items[*].metadata.uid}'); do
		[[ " $1 " != *" $uid "* ]] || left+=" $uid"
	done
	[[ -n $left ]] && echo "$left"
}

stage_replace() {
	local old_coild pods uids n ip node ok t
	[[ -s $STATE/pods-v1.json ]] || die "no $STATE/pods-v1.json: run the v1 stage first"
	same_pods
	ping_across "$(cat "$STATE/pods-v1.json")"
	old_coild=$(kc -n kube-system get pods -l app.kubernetes.io/component=coild -o jsonpath='{.items[*].metadata.uid}')
	log "coil migrate replace (answering y)"
	t=$SECONDS
	printf 'y\n' | migrate replace --interval 1s --failed-pods-file "$STATE/failed-pods.txt" \
		>"$STATE/replace.log" 2>"$STATE/replace.err" || {
		cat "$STATE/replace.log" "$STATE/replace.err" >&2
		die "replace failed"
	}
	[[ $(cat "$STATE/replace.err") == "DO YOU WANT TO PROCEED? [y/N] " ]] ||
		die "replace's stderr is not just the prompt: $(cat "$STATE/replace.err")"
	sed 's/^/  replace: /' "$STATE/replace.log" >&2
	log "replace took $((SECONDS - t)) s"
	[[ ! -e $STATE/failed-pods.txt ]] || die "pods not deleted: $(cat "$STATE/failed-pods.txt")"
	for node in $(jq -r '.[].node' "$STATE/pods-v1.json" | sort -u); do
		grep -qxF "Deleting pods on node $node..." "$STATE/replace.log" || die "replace skipped $node"
	done
	for n in $(jq -r '.[].name' "$STATE/pods-v1.json"); do
		grep -qxF "  deleting $NS/$n" "$STATE/replace.log" || die "replace did not delete $NS/$n"
	done
	kc -n "$NS" rollout status deployment/web --timeout=180s >/dev/null
	kc -n "$NS" rollout status statefulset/db --timeout=180s >/dev/null
	[[ -z $(reserved_blocks) ]] || die "reserved blocks left: $(reserved_blocks | tr '\n' ';')"
	# replace deletes the coild pods and exits: the old ones may still be terminating, and
	# the DaemonSet's status may not have seen the deletions yet.
	for _ in $(seq 120); do
		! coild_left "$old_coild" && break
		sleep 1
	done
	! coild_left "$old_coild" || die "coild pods not restarted: $(coild_left "$old_coild")"
	kc -n kube-system rollout status daemonset/coild --timeout=300s >/dev/null
	log "no reserved block left; coild restarted on every node"
	# Pods of the Deployment that replace deleted may still be terminating: wait for exactly
	# the recreated set.
	for _ in $(seq 60); do
		pods=$(pods_json)
		(($(jq length <<<"$pods") == nodes + 1)) && jq -e 'all(.[]; .phase == "Running" and .ready)' <<<"$pods" >/dev/null && break
		sleep 1
	done
	uids=$(jq -r '.[].uid' "$STATE/pods-v1.json")
	while read -r n uid node ip; do
		[[ $'\n'$uids$'\n' != *$'\n'$uid$'\n'* ]] || die "$n was not recreated"
		ok=
		for b in $(kc get addressblocks -l "coil.cybozu.com/pool=$NS,coil.cybozu.com/node=$node" -o jsonpath='{.items[*].ipv4}'); do
			! in_cidr "$ip" "$b" || ok=$b
		done
		[[ -n $ok ]] || die "$n on $node has $ip, in no v2 block of pool $NS on $node"
		for n2 in $(seq "$nodes"); do
			! in_cidr "$ip" "$(app_block "$n2")" || die "$n has $ip of v1's block $(app_block "$n2")"
		done
		log "$n@$node: $ip of v2 block $ok"
	done < <(jq -r '.[] | "\(.name) \(.uid) \(.node) \(.ip)"' <<<"$pods")
	(($(jq length <<<"$pods") == nodes + 1)) || die "want $((nodes + 1)) pods, have $pods"
	ping_across "$pods"
	log "removing namespace $NS and pools v1-apps, v1-batch"
	kc delete namespace "$NS" --wait=false >/dev/null
	kc delete addresspool v1-apps v1-batch --wait=false >/dev/null
	log "stage replace done in $((SECONDS - start)) s"
}

"stage_$stage"
