#!/usr/bin/env bash
# Prints the path of a current standalone kustomize, building it on first use from its Go
# module into a fixed cache dir, so that warm runs (and CI right after a session) cost nothing.
# Debian's kubectl 1.20 carries a kustomize too old for deploy/ (no `labels`, no `patches`).
#
# Usage: scripts/kustomize.sh [CACHE_DIR]   (default /var/cache/coil-test/kustomize, or
#        $COIL_KUSTOMIZE_CACHE). Needs Go at /usr/local/go and the Go module proxy.
set -euo pipefail

# kustomize/v5 v5.8.2 is the newest release whose go.mod accepts this machine's Go 1.26
# (v5.8.3 asks for Go 1.27).
version=v5.8.2
cache=${1:-${COIL_KUSTOMIZE_CACHE:-/var/cache/coil-test/kustomize}}
bin=$cache/$version/kustomize
go=/usr/local/go/bin/go

if [ ! -x "$bin" ]; then
	[ -x "$go" ] || {
		echo "kustomize.sh: Go is needed at $go to build kustomize $version" >&2
		exit 1
	}
	mkdir -p "$cache/$version"
	work=$(mktemp -d "$cache/build.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	# Module and build caches under the cache dir: the second build is a copy.
	GOMODCACHE=$cache/gomod GOCACHE=$cache/gocache GOBIN=$work GOFLAGS=-modcacherw \
		GOTOOLCHAIN=local "$go" install "sigs.k8s.io/kustomize/kustomize/v5@$version" >&2
	mv "$work/kustomize" "$bin" # atomic: a concurrent run never sees half a binary
fi
"$bin" version >/dev/null 2>&1 || {
	echo "kustomize.sh: $bin does not run" >&2
	exit 1
}
echo "$bin"
