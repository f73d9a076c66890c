#!/bin/bash
# Fetches Debian's kubectl (package kubernetes-client, 1.20) into a private cache dir and
# prints the path of the kubectl binary. The package is never installed: it conflicts with
# vendor kubectl dispatchers some machines carry at /usr/bin/kubectl, which we must not touch.
#
# Usage: test/kubectl/setup-kubectl.sh [CACHE_DIR]   (default /var/cache/coil-test/kubectl,
#        or $COIL_KUBECTL_CACHE)
set -euo pipefail

cache=${1:-${COIL_KUBECTL_CACHE:-/var/cache/coil-test/kubectl}}
kubectl=$cache/root/usr/bin/kubectl

if [ ! -x "$kubectl" ]; then
	mkdir -p "$cache"
	work=$(mktemp -d "$cache/dl.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	# apt-get download writes into the current directory; run it in the temp dir.
	if ! (cd "$work" && apt-get download -q kubernetes-client >/dev/null 2>&1); then
		(apt-get update -qq && cd "$work" && apt-get download -q kubernetes-client) >&2
	fi
	deb=$(ls "$work"/kubernetes-client_*.deb)
	rm -rf "$cache/root.new"
	dpkg-deb -x "$deb" "$cache/root.new"
	# Swap in atomically so that a concurrent run never sees a half-unpacked tree.
	rm -rf "$cache/root"
	mv "$cache/root.new" "$cache/root"
fi
"$kubectl" version --client --short >/dev/null 2>&1 || {
	echo "setup-kubectl: $kubectl does not run" >&2
	exit 1
}
echo "$kubectl"
