#!/usr/bin/env bash
# Builds coil. Usage: scripts/build.sh [normal|asan|fuzz]...   (default: normal)
# COIL_TARGET=coil builds only the binary (the demo needs no tests).
# normal -> build/ (gcc), asan -> build-asan/ (clang, ASan+UBSan), fuzz -> build-fuzz/ (clang, libFuzzer)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
for kind in "${@:-normal}"; do
	case "$kind" in
	normal) dir=build; args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo); cc=gcc ;;
	asan) dir=build-asan; args=(-DCMAKE_BUILD_TYPE=Debug -DCOIL_SANITIZE=ON); cc=clang ;;
	tsan) dir=build-tsan; args=(-DCMAKE_BUILD_TYPE=Debug -DCOIL_TSAN=ON); cc=clang ;;
	fuzz) dir=build-fuzz; args=(-DCMAKE_BUILD_TYPE=Debug -DCOIL_FUZZ=ON); cc=clang ;;
	*) echo "unknown build kind: $kind" >&2; exit 2 ;;
	esac
	CC=$cc cmake -S . -B "$dir" "${args[@]}" >/dev/null
	cmake --build "$dir" -j "$jobs" ${COIL_TARGET:+--target "$COIL_TARGET"}
done
