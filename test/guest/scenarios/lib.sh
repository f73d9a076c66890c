# Helpers of the guest scenarios (run inside the test guest by guest-init.sh, in bash).
# A scenario sources this file, makes network namespaces with new_netns (removed on exit,
# also on failure or timeout), asserts with check/check_eq/check_not, and ends with
# `finish`, which prints "N passed, N failed" and sets the exit status.
# Environment: COIL (the staged coil binary), RESULTS (a directory for artifacts, on the
# share: the host can read it after the run), HOST_ADDR (the host as the guest sees it).
# shellcheck shell=bash
set -uo pipefail

COIL=${COIL:-/opt/bin/coil}
RESULTS=${RESULTS:-/tmp/results}
HOST_ADDR=10.0.2.2
SCENARIO=${SCENARIO:-$(basename "$0" .sh)}
mkdir -p "$RESULTS"
FAILURES=0
PASSES=0
NETNS_MADE=()
PIDS_STARTED=()

# Each line carries the seconds since the scenario started: under TCG the slow steps show.
log() { printf '%s [%ds]: %s\n' "$SCENARIO" "$SECONDS" "$*" >&2; }
pass() {
	PASSES=$((PASSES + 1))
	log "ok: $*"
}
fail() {
	FAILURES=$((FAILURES + 1))
	log "FAIL: $*"
}
die() { # a failure after which the scenario cannot go on
	fail "$*"
	exit 1
}
check() { # check DESCRIPTION CMD...: passes if CMD succeeds
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
check_not() { # check_not DESCRIPTION CMD...: passes if CMD fails
	local what=$1
	shift
	if "$@"; then fail "$what"; else pass "$what"; fi
}
check_eq() { # check_eq DESCRIPTION EXPECTED ACTUAL
	if [ "$2" == "$3" ]; then pass "$1"; else fail "$1: expected [$2], got [$3]"; fi
}
# need CMD...: the scenario cannot run without these programs: fail loudly.
need() {
	local c
	for c in "$@"; do command -v "$c" >/dev/null || die "needs $c in the guest"; done
}

# new_netns NAME: a network namespace with lo up, deleted when the scenario ends.
new_netns() {
	ip netns add "$1" || die "ip netns add $1"
	NETNS_MADE+=("$1")
	ip -n "$1" link set lo up
}
# start_bg LOGFILE CMD...: a background process (all stdio redirected), killed at the end;
# its pid in $! as usual.
start_bg() {
	local out=$1
	shift
	"$@" </dev/null >"$out" 2>&1 &
	PIDS_STARTED+=($!)
}
# wait_for SECONDS CMD...: polls CMD every 0.2 s until it succeeds (status 0) or time runs out.
wait_for() {
	local limit=$1 i
	shift
	for ((i = 0; i < limit * 5; i++)); do
		"$@" && return 0
		sleep 0.2
	done
	return 1
}

cleanup() {
	local p ns
	for p in "${PIDS_STARTED[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS_STARTED[@]}"; do wait "$p" 2>/dev/null; done
	for ns in "${NETNS_MADE[@]}"; do ip netns delete "$ns" 2>/dev/null; done
}
trap cleanup EXIT
trap 'log "terminated"; exit 143' TERM INT

finish() {
	echo "$PASSES passed, $FAILURES failed"
	[ "$FAILURES" -eq 0 ] && [ "$PASSES" -gt 0 ]
}
