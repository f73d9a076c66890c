# The egress NAT client of coild on a kernel with FoU: lib/natclient's test executable in its
# "fou" mode sets up a dual-stack client (FoU listeners, fou-dummy, fou4_/fou6_ tunnels, the
# flow-based devices, rules and table 118) in fresh network namespaces through lib/founat,
# switches the encap source port to auto through an update (the tunnel is recreated), and
# records what a client setup costs (p50 of 15, in results/natclient.d/latency.txt).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need modprobe
BIN=/opt/bin/test_natclient_kernel
[ -x "$BIN" ] || die "needs $BIN staged (test/guest/CMakeLists.txt)"
"$BIN" fou >"$RESULTS/kernel.log" 2>&1
rc=$?
grep -v '^{' "$RESULTS/kernel.log" >&2
check_eq "the NAT client on FoU (test_natclient_kernel fou)" 0 "$rc"
grep 'natclient_setup' "$RESULTS/kernel.log" >"$RESULTS/latency.txt"
check "the setup latency was measured" test -s "$RESULTS/latency.txt"
finish
