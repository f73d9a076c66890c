#!/usr/bin/env bash
# The resident memory of `coil egress` tracking N client pods (default 100), on any kernel:
# the rig of test/egress/gateway_rig.sh (the test API server and the gateway in a throw-away
# netns, FoU and NAT setup marked done) with N annotated pods without an IP, so every pod is
# tracked and counted but no tunnel is made (tunnels are kernel memory, not the process's).
# Prints the client count the gateway reports and its VmRSS/VmHWM.
# Usage (root): bench/egress-rss.sh [N] [path to coil]
set -euo pipefail
N=${1:-100}
COIL=${2:-build/cmd/coil}
# shellcheck source=../test/egress/gateway_rig.sh
. "$(dirname "$0")/../test/egress/gateway_rig.sh"
rig_start_api
for i in $(seq "$N"); do rig_pod "client-$i" egress2; done
rig_start_gateway
rig_wait_count "$N" 60 || { cat "$RIG_TMP/egress.log" >&2; exit 1; }
sleep 1
echo "clients: $N (process $(cat "/proc/$RIG_PID/comm"), pid $RIG_PID)"
grep -E '^(VmRSS|VmHWM)' "/proc/$RIG_PID/status"
