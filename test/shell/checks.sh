# The assertions of the bash test scripts (test/node on the host, test/guest in the guest):
# counted passes and failures. The includer defines log MESSAGE and sets FAILURES=0 and
# PASSES=0; with VERBOSE set, passing checks are logged too.
# shellcheck shell=bash

pass() {
	PASSES=$((PASSES + 1))
	[ -z "${VERBOSE:-}" ] || log "ok: $*"
}
fail() {
	FAILURES=$((FAILURES + 1))
	log "FAIL: $*"
}
# die MESSAGE: a failure after which the test cannot go on.
die() {
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
