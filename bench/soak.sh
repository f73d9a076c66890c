#!/bin/bash
# Soak: CYCLES ADD/DEL cycles (default 10,000) against one `coil daemon --standalone` in a
# throw-away node netns, with WINDOW pods alive at any time (each cycle adds one pod and
# deletes the one added WINDOW cycles before), each pod with a container ID of its own.
# Prints the daemon's VmRSS at the start, the middle and the end, and fails unless every
# call succeeded and nothing is left: no veth (retired ones included), no table-116 route,
# no allocation record.
#
#   bench/soak.sh [--cycles N] [--window W]
#
# COIL names the full binary (default build/cmd/coil), the plugin is coil-static next to it
# (COIL_PLUGIN overrides it). Needs root, iproute2, jq. Not a CI test: about 2 minutes on
# a quiet machine.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CYCLES=10000
WINDOW=4
NETNS_COUNT=16 # pod netns reused round-robin; a pod's netns is free long before its reuse
COIL=${COIL:-$HERE/../build/cmd/coil}
PLUGIN=${COIL_PLUGIN:-$(dirname "$COIL")/coil-static}
REAP_GROUP=1129269580

while (($#)); do
	case $1 in
	--cycles) CYCLES=$2 && shift ;;
	--window) WINDOW=$2 && shift ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' && exit 0 ;;
	*) echo "soak: unknown argument $1" >&2 && exit 2 ;;
	esac
	shift
done
[[ $CYCLES =~ ^[1-9][0-9]*$ && $WINDOW =~ ^[1-9][0-9]*$ && $WINDOW -lt $NETNS_COUNT ]] ||
	{ echo "soak: --cycles and --window take positive numbers, window < $NETNS_COUNT" >&2 && exit 2; }
[[ -x $COIL && -x $PLUGIN ]] || { echo "soak: $COIL or $PLUGIN missing (build first)" >&2 && exit 2; }

TOP=$(mktemp -d /tmp/coil-soak.XXXXXX)
TAG=${TOP##*.}
NODE=soak-node-$TAG
DAEMON_PID=""
cleanup() {
	local i
	[[ -z $DAEMON_PID ]] || { kill -TERM "$DAEMON_PID" 2>/dev/null; wait "$DAEMON_PID" 2>/dev/null || true; }
	for i in $(seq 0 $((NETNS_COUNT - 1))); do echo "netns delete soak-pod-$TAG-$i"; done |
		{ echo "netns delete $NODE" && cat; } | ip -force -batch - 2>/dev/null || true
	rm -rf "$TOP"
}
trap cleanup EXIT
log() { printf 'soak: %s\n' "$*" >&2; }

for i in $(seq 0 $((NETNS_COUNT - 1))); do echo "netns add soak-pod-$TAG-$i"; done |
	{ echo "netns add $NODE" && cat; } | ip -batch -
ip -n "$NODE" link set lo up
cat >"$TOP/pools.yaml" <<'EOF'
apiVersion: coil.cybozu.com/v2
kind: AddressPool
metadata:
  name: default
spec:
  blockSizeBits: 5
  subnets:
    - ipv4: 10.200.0.0/16
      ipv6: fd00:200::/112
EOF
printf '{"cniVersion":"1.0.0","name":"soak","type":"coil","socket":"%s"}\n' "$TOP/coild.sock" \
	>"$TOP/netconf.json"
nsenter --net="/var/run/netns/$NODE" "$COIL" daemon --standalone --config "$TOP/pools.yaml" \
	--state-dir "$TOP/state" --socket "$TOP/coild.sock" --node-ipv4 10.20.30.41 \
	--node-ipv6 fd10::41 --metrics-addr 127.0.0.1:9384 --health-addr 127.0.0.1:9385 \
	--log-level warn >"$TOP/coild.log" 2>&1 &
DAEMON_PID=$!
for _ in $(seq 100); do [[ -S $TOP/coild.sock ]] && break; sleep 0.1; done
[[ -S $TOP/coild.sock ]] || { cat "$TOP/coild.log" >&2; log "daemon did not start"; exit 1; }

rss() { awk '/^VmRSS/ {printf "%.1f MiB", $2 / 1024}' "/proc/$DAEMON_PID/status"; }
cni() { # cni COMMAND CYCLE
	nsenter --net="/var/run/netns/$NODE" env -i CNI_COMMAND="$1" CNI_CONTAINERID="soak-$2" \
		CNI_NETNS="/var/run/netns/soak-pod-$TAG-$(($2 % NETNS_COUNT))" CNI_IFNAME=eth0 \
		CNI_PATH=/usr/lib/cni CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=soak;K8S_POD_NAME=p$2" \
		"$PLUGIN" <"$TOP/netconf.json" >"$TOP/out" 2>&1 ||
		{ log "$1 of cycle $2 failed: $(cat "$TOP/out")"; return 1; }
}

FAILURES=0
START=$SECONDS
log "$CYCLES cycles, $WINDOW pods alive at a time; daemon pid $DAEMON_PID"
echo "RSS at start:  $(rss)"
for ((c = 0; c < CYCLES; c++)); do
	cni ADD "$c" || FAILURES=$((FAILURES + 1))
	if ((c >= WINDOW)); then cni DEL $((c - WINDOW)) || FAILURES=$((FAILURES + 1)); fi
	((c + 1 != CYCLES / 2)) || echo "RSS at middle: $(rss) (after $((c + 1)) cycles)"
done
for ((c = CYCLES - WINDOW; c < CYCLES; c++)); do
	((c < 0)) || cni DEL "$c" || FAILURES=$((FAILURES + 1))
done
echo "RSS at end:    $(rss) (after $CYCLES cycles, $((SECONDS - START)) s)"

# What is left once the reaps are done (bounded wait).
for _ in $(seq 100); do
	[[ -z $(ip -n "$NODE" -j link show group "$REAP_GROUP" | jq -r '.[].ifname // empty') ]] && break
	sleep 0.1
done
LEFT_VETHS=$(ip -n "$NODE" -j link show type veth | jq length)
LEFT_ROUTES=$( (ip -n "$NODE" -4 route show table 116 2>/dev/null; ip -n "$NODE" -6 route show table 116) | wc -l)
LEFT_RECORDS=$(find "$TOP/state/allocations" -type f | wc -l)
echo "failed calls: $FAILURES; left: $LEFT_VETHS veths, $LEFT_ROUTES table-116 routes, $LEFT_RECORDS records"
((FAILURES == 0 && LEFT_VETHS == 0 && LEFT_ROUTES == 0 && LEFT_RECORDS == 0)) || { log "FAILED"; exit 1; }
echo "soak: OK"
