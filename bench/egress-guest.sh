#!/usr/bin/env bash
# Egress figures on a kernel with FoU: what coild's NAT client adds to CNI ADD latency, and the
# memory of a `coil egress` gateway with N clients that each have a real tunnel. The host
# kernel here has no fou/ipip, so both run in the test guest (test/guest: QEMU TCG, one vCPU)
# with the control plane on the host (test/guest/controlplane.py); the guest half is
# bench/guest/egress_bench.sh. For scale, the same run first measures a plain ADD on the host
# (bench/cni-bench.sh --pods N --no-reference bench/configs/coil-v4.conf: standalone coild).
#
#   bench/egress-guest.sh [--pods N] [--clients N] [--state DIR]
#     --pods     pods per kind (without, with one Egress) for the ADD latency (default 20)
#     --clients  client pods of the gateway (default 100; it is measured with 1 first)
#     --state    the guest's state dir (default /var/tmp/coil-egress-bench-$$, removed after)
# COIL: the full coil binary (default build/cmd/coil); the plugin is coil-static next to it.
# Root. Not part of the test suite; about 3 to 5 minutes on a 2-core machine.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
PODS=20
CLIENTS=100
STATE=/var/tmp/coil-egress-bench-$$
KEEP_STATE=false
while [ $# -gt 0 ]; do
	case "$1" in
	--pods) PODS=$2 ;;
	--clients) CLIENTS=$2 ;;
	--state) STATE=$2 KEEP_STATE=true ;;
	*) echo "usage: $0 [--pods N] [--clients N] [--state DIR]" >&2 && exit 2 ;;
	esac
	shift 2
done
COIL=$(realpath "${COIL:-$REPO/build/cmd/coil}")
PLUGIN=$(dirname "$COIL")/coil-static
[ -x "$COIL" ] && [ -x "$PLUGIN" ] || { echo "needs $COIL and $PLUGIN (build them)" >&2; exit 1; }
export COIL
# The timed driver of cni-bench.sh from the same build, run on the host and in the guest.
DRIVER=$(realpath -m "$(dirname "$COIL")/../bench/cni-bench")
[ -x "$DRIVER" ] || { echo "needs $DRIVER (target cni-bench of the same build)" >&2; exit 1; }

GUEST_UP=false
finish() {
	local rc=$?
	if $GUEST_UP; then "$REPO/test/guest/guest.sh" down "$STATE" || rc=1; fi
	$KEEP_STATE || rm -rf "$STATE"
	exit "$rc"
}
trap finish EXIT

echo "== host, for scale: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
host=$("$HERE/cni-bench.sh" --driver "$DRIVER" --pods "$PODS" --no-reference "$HERE/configs/coil-v4.conf" 2>/dev/null)
host_add=$(awk '$1 == "coil-v4" { print $2 }' <<<"$host")
[ -n "$host_add" ] || { echo "$host" >&2; echo "the host's cni-bench gave no figure" >&2; exit 1; }
echo "   plain ADD p50 on the host (coil-static + standalone coild, $PODS pods): $host_add ms"

GUEST_UP=true # also when up fails half-way: down stops what it started
GUEST_STAGE="$PLUGIN $DRIVER" GUEST_SCENARIOS_EXTRA=$HERE/guest/egress_bench.sh \
	"$REPO/test/guest/guest.sh" up "$STATE"
# Blocks of 64 addresses: every pod of the run fits in the node's first block, so no ADD waits
# for a block request.
GUEST_TIMEOUT=480 /usr/bin/python3 "$REPO/test/guest/controlplane.py" --block-size-bits 6 \
	"$STATE" egress_bench PODS="$PODS" CLIENTS="$CLIENTS" >"$STATE/scenario.log" 2>&1 ||
	{ tail -n 60 "$STATE/scenario.log" >&2; echo "the guest half failed ($STATE/scenario.log)" >&2; exit 1; }
summary=$(ls -t "$STATE"/share/results/egress_bench-*.d/summary.txt | head -1)
cat "$summary"
guest_sa=$(awk '/^== plain ADD p50 in the guest/ { print $(NF - 1) }' "$summary")
echo "== TCG factor of a plain ADD (the same cni-bench, standalone coild, guest / host):" \
	"$(awk -v a="$guest_sa" -v b="$host_add" 'BEGIN { printf "%.1f", a / b }')x"
