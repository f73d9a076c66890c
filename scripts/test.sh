#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine, as root:
#   installs the packages, builds the normal, sanitizer and fuzz builds, and runs ctest in each.
# The normal build runs every test (unit, kernel tests in throw-away network namespaces,
# containerd); the sanitizer build runs the unit and kernel tests; the fuzz build runs each
# libFuzzer target briefly.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
	echo "scripts/test.sh: the suite needs root (network namespaces, containerd)" >&2
	exit 1
fi
scripts/deps.sh test
scripts/build.sh normal asan fuzz

status=0
run() {
	local dir=$1; shift
	echo "=== ctest in $dir $*"
	(cd "$dir" && ctest --output-on-failure --no-tests=error "$@") || status=1
}
run build
run build-asan -LE 'e2e|bench|apiserver'
run build-fuzz -L fuzz
if [ "$status" -ne 0 ]; then
	echo "scripts/test.sh: FAILED" >&2
fi
exit "$status"
