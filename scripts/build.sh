#!/usr/bin/env bash
# Builds coil. Usage: scripts/build.sh [normal|asan|tsan|fuzz|release-gcc|release-clang]...
# (default: normal). COIL_TARGET=coil builds only the binary (the demo needs no tests).
# normal -> build/ (gcc, RelWithDebInfo: coil and coil-static), asan -> build-asan/ (clang,
# ASan+UBSan), tsan -> build-tsan/, fuzz -> build-fuzz/ (clang, libFuzzer),
# release-gcc / release-clang -> build-release-gcc/, build-release-clang/ (Release, as a
# packager builds it: -O2 -DNDEBUG finds warnings the other builds do not).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
for kind in "${@:-normal}"; do
	case "$kind" in
	normal) dir=build; args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo); cc=gcc ;;
	asan) dir=build-asan; args=(-DCMAKE_BUILD_TYPE=Debug -DCOIL_SANITIZE=ON); cc=clang ;;
	tsan) dir=build-tsan; args=(-DCMAKE_BUILD_TYPE=Debug -DCOIL_TSAN=ON); cc=clang ;;
	fuzz) dir=build-fuzz; args=(-DCMAKE_BUILD_TYPE=Debug -DCOIL_FUZZ=ON); cc=clang ;;
	release-gcc) dir=build-release-gcc; args=(-DCMAKE_BUILD_TYPE=Release); cc=gcc ;;
	release-clang) dir=build-release-clang; args=(-DCMAKE_BUILD_TYPE=Release); cc=clang ;;
	*) echo "unknown build kind: $kind" >&2; exit 2 ;;
	esac
	CC=$cc cmake -S . -B "$dir" "${args[@]}" >/dev/null
	cmake --build "$dir" -j "$jobs" ${COIL_TARGET:+--target "$COIL_TARGET"}
done
