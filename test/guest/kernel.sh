#!/usr/bin/env bash
# Fetches Debian's current amd64 kernel (the package linux-image-amd64 depends on) into the
# cache and prints the directory that holds it: DIR/vmlinuz and DIR/root/lib/modules/KVER.
#   test/guest/kernel.sh            # prints the cache directory of the kernel to use
# The package is unpacked with dpkg-deb, never installed: the host keeps its own kernel.
# The cache is keyed by the package's name and version, so a new kernel ABI or a Debian
# point release fetches once; a warm cache needs no network (nor apt lists) at all.
# Fails loudly when no kernel can be had.
set -euo pipefail

CACHE=${COIL_GUEST_CACHE:-/var/cache/coil-test/guest}
log() { printf 'guest kernel: %s\n' "$*" >&2; }
die() {
	log "$*"
	exit 1
}

# The kernel package the metapackage points at, as "NAME VERSION" (empty when apt cannot say).
resolve_package() {
	local pkg ver
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }') || true
	[ -n "$pkg" ] || return 0
	ver=$(apt-cache policy "$pkg" 2>/dev/null | awk '$1 == "Candidate:" { print $2; exit }') || true
	[ -n "$ver" ] && [ "$ver" != "(none)" ] && printf '%s %s\n' "$pkg" "$ver"
}

# The newest complete kernel in the cache (for a machine whose apt lists are gone).
newest_cached() {
	local d
	for d in $(ls -1d "$CACHE"/kernel-* 2>/dev/null | sort -V -r); do
		[ -e "$d/complete" ] && { echo "$d"; return 0; }
	done
	return 1
}

# fetch NAME VERSION DIR: downloads and unpacks the package into DIR (atomically).
fetch() {
	local pkg=$1 ver=$2 dir=$3 tmp kver
	tmp=$(mktemp -d "$CACHE/.fetch.XXXXXX")
	trap 'rm -rf "$tmp"' RETURN
	log "downloading $pkg $ver"
	# apt-get download writes into the current directory; _apt cannot write to a root-owned
	# temp dir, so it warns and downloads as root: harmless here.
	(cd "$tmp" && apt-get download -q "$pkg=$ver" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2) ||
		die "apt-get download $pkg=$ver failed (no network and no cached kernel?)"
	dpkg-deb -x "$tmp"/*.deb "$tmp/root"
	kver=$(ls -1 "$tmp/root/lib/modules")
	[ -n "$kver" ] && [ -e "$tmp/root/boot/vmlinuz-$kver" ] || die "$pkg has no vmlinuz/modules"
	mv "$tmp/root/boot/vmlinuz-$kver" "$tmp/vmlinuz"
	rm -rf "$tmp/root/boot" "$tmp/root/usr" "$tmp/root/etc" "$tmp"/*.deb
	# The package ships no modules.dep (depmod runs at install time); the initramfs builder
	# needs it to pick each module's dependencies.
	busybox depmod -b "$tmp/root" "$kver"
	echo "$kver" >"$tmp/kver"
	echo "$pkg $ver" >"$tmp/package"
	touch "$tmp/complete"
	rm -rf "$dir"
	mv "$tmp" "$dir"
	trap - RETURN
}

mkdir -p "$CACHE"
read -r pkg ver < <(resolve_package || true) || true
if [ -z "${pkg:-}" ]; then
	dir=$(newest_cached) || die "apt cannot resolve linux-image-amd64 and the cache ($CACHE) is empty"
	log "apt cannot resolve linux-image-amd64; using the cached $(cat "$dir/package")"
	echo "$dir"
	exit 0
fi
dir="$CACHE/kernel-$pkg-$ver"
[ -e "$dir/complete" ] || fetch "$pkg" "$ver" "$dir"
echo "$dir"
