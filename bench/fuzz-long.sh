#!/bin/bash
# The long fuzz run: every libFuzzer target of the fuzz build (the ones ctest runs for
# COIL_FUZZ_SECONDS under label "fuzz") for SECONDS each, one after the other, starting from
# the checked-in seed corpus (test/fuzz/<family>/corpus/<target>/, test/unit/<lib>/corpus/...)
# and the build's kept work corpus (build-fuzz/.../<target>-corpus/, which grows from run to
# run). With --merge the new interesting inputs are minimized into the checked-in corpus
# (libFuzzer -merge=1) so that they can be committed. A crash stops the run with its
# reproducer (crash-*) in the work directory and exit status 1.
#
# Usage: bench/fuzz-long.sh [--seconds N] [--build DIR] [--merge] [TARGET-REGEX]
#   default: 600 s per target, build-fuzz (built with scripts/build.sh fuzz if missing).
set -euo pipefail

SECONDS_EACH=600
BUILD=build-fuzz
MERGE=
FILTER=.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) SECONDS_EACH=$2; shift 2 ;;
	--build) BUILD=$2; shift 2 ;;
	--merge) MERGE=1; shift ;;
	-h | --help) sed -n '2,12p' "$0"; exit 0 ;;
	*) FILTER=$1; shift ;;
	esac
done
cd "$ROOT"
command -v jq >/dev/null || { echo "fuzz-long: jq is required" >&2; exit 2; }
[ -d "$BUILD" ] || CC=clang cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug -DCOIL_FUZZ=ON

# Each fuzz test's command: the target and its corpus directories (work dir first). A fuzz
# test is named like its target, so only those are built.
TESTS=$(ctest --test-dir "$BUILD" -L fuzz -R "$FILTER" --show-only=json-v1 |
	jq -c '.tests[] | {name, command}')
[ -n "$TESTS" ] || { echo "fuzz-long: no fuzz target matches '$FILTER' in $BUILD" >&2; exit 2; }
mapfile -t targets < <(jq -r .name <<<"$TESTS")
cmake --build "$BUILD" -j2 --target "${targets[@]}"

failed=0
while IFS= read -r test; do
	name=$(jq -r .name <<<"$test")
	exe=$(jq -r '.command[0]' <<<"$test")
	mapfile -t dirs < <(jq -r '.command[1:][] | select(startswith("-") | not)' <<<"$test")
	echo "== $name: ${SECONDS_EACH}s, corpora: ${dirs[*]}"
	if ! (cd "$(dirname "$exe")" && "$exe" -max_total_time="$SECONDS_EACH" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 "${dirs[@]}"); then
		echo "fuzz-long: $name FAILED (reproducer in $(dirname "$exe"))" >&2
		failed=1
		continue
	fi
	if [ -n "$MERGE" ] && [ "${#dirs[@]}" -ge 2 ]; then
		# dirs[0] is the work corpus, dirs[1] the checked-in seed corpus.
		"$exe" -merge=1 "${dirs[1]}" "${dirs[0]}"
	fi
done <<<"$TESTS"
exit "$failed"
