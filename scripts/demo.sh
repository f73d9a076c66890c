#!/usr/bin/env bash
# The README's main command: installs what coil needs, builds it, and runs coil's main job
# on this machine without Kubernetes: a node (a network namespace) runs `coil daemon
# --standalone` with the pools of deploy/demo/pools.yaml; a few pods (more namespaces) get
# their interfaces and addresses through the coil CNI plugin, exactly as a container runtime
# would call it; they ping each other and the node; then everything is torn down.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
	echo "scripts/demo.sh: run as root (it installs packages and creates network namespaces)" >&2
	exit 1
fi
scripts/deps.sh demo
COIL_TARGET=coil scripts/build.sh normal >/dev/null
COIL=$PWD/build/cmd/coil
WORK=$(mktemp -d /tmp/coil-demo.XXXXXX)
NODE=coil-demo-node
PODS=(web-1:default web-2:default gateway:dmz)
DAEMON=

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
in_node() { nsenter --net="/var/run/netns/$NODE" "$@"; }
in_pod() { local p=$1; shift; nsenter --net="/var/run/netns/coil-demo-$p" "$@"; }

cleanup() {
	set +e
	for entry in "${PODS[@]}"; do ip netns del "coil-demo-${entry%%:*}" 2>/dev/null; done
	[ -n "$DAEMON" ] && kill "$DAEMON" 2>/dev/null && wait "$DAEMON" 2>/dev/null
	ip netns del "$NODE" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

# cni COMMAND POD NAMESPACE: the plugin as a runtime calls it, from the node's netns.
cni() {
	in_node env -i CNI_COMMAND="$1" CNI_CONTAINERID="demo-$2" \
		CNI_NETNS="/var/run/netns/coil-demo-$2" CNI_IFNAME=eth0 CNI_PATH="$WORK" \
		CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=$3;K8S_POD_NAME=$2" "$COIL" \
		<<<"{\"cniVersion\":\"1.1.0\",\"name\":\"demo\",\"type\":\"coil\",\"socket\":\"$WORK/coild.sock\"}"
}

say "coil version"
"$COIL" version

say "a node: network namespace $NODE running coil daemon --standalone"
ip netns add "$NODE"
ip -n "$NODE" link set lo up
nsenter --net="/var/run/netns/$NODE" "$COIL" daemon --standalone --config deploy/demo/pools.yaml --state-dir "$WORK/state" \
	--socket "$WORK/coild.sock" --node-ipv4 10.20.30.41 --node-ipv6 fd10::41 \
	--metrics-addr 127.0.0.1:9384 --health-addr 127.0.0.1:9385 2>"$WORK/coild.log" &
DAEMON=$!
for _ in $(seq 100); do [ -S "$WORK/coild.sock" ] && break; sleep 0.05; done
[ -S "$WORK/coild.sock" ] || { cat "$WORK/coild.log"; exit 1; }
echo "pools: $(grep -c 'kind: AddressPool' deploy/demo/pools.yaml) (default: dual stack; dmz: IPv4, chosen by namespace dmz)"

say "pods: CNI ADD for each"
printf '%-10s %-10s %-16s %-20s %s\n' POD NAMESPACE IPv4 IPv6 HOST-VETH
declare -A V4 V6
for entry in "${PODS[@]}"; do
	pod=${entry%%:*} ns=${entry#*:}
	ip netns add "coil-demo-$pod"
	result=$(cni ADD "$pod" "$ns")
	V4[$pod]=$(python3 -c 'import json,sys; print(next((i["address"].split("/")[0] for i in json.loads(sys.argv[1])["ips"] if "." in i["address"]), "-"))' "$result")
	V6[$pod]=$(python3 -c 'import json,sys; print(next((i["address"].split("/")[0] for i in json.loads(sys.argv[1])["ips"] if ":" in i["address"]), "-"))' "$result")
	veth=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["interfaces"][1]["name"])' "$result")
	printf '%-10s %-10s %-16s %-20s %s\n' "$pod" "$ns" "${V4[$pod]}" "${V6[$pod]}" "$veth"
done

say "the node's routing: pod table 116, exported blocks in table 119 (for BIRD)"
in_node ip route show table 116
in_node ip -6 route show table 116
in_node ip route show table 119
in_node ip -6 route show table 119

say "pings"
ping_ok() { # FROM TARGET [-6]
	if in_pod "$1" ping ${3:+"$3"} -c1 -W2 "$2" >/dev/null; then echo "  $1 -> $2: ok"; else echo "  $1 -> $2: FAILED"; return 1; fi
}
ping_ok web-1 "${V4[web-2]}"
ping_ok web-1 "${V6[web-2]}" -6
ping_ok web-2 "${V4[gateway]}"
ping_ok gateway "${V4[web-1]}"
ping_ok web-1 10.20.30.41
ping_ok web-2 fd10::41 -6

say "teardown: CNI DEL for each pod, then the daemon"
for entry in "${PODS[@]}"; do
	pod=${entry%%:*} ns=${entry#*:}
	cni DEL "$pod" "$ns"
	ip netns del "coil-demo-$pod"
done
echo "veths left on the node: $(in_node ip -o link show type veth | wc -l)"
echo "routes left in table 119: $(in_node ip route show table 119 | wc -l)"
kill "$DAEMON"; wait "$DAEMON" || true; DAEMON=
ip netns del "$NODE"
echo "done: nothing left behind"
