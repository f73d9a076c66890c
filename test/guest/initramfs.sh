#!/usr/bin/env bash
# Builds the guest's base initramfs and prints its path:
#   test/guest/initramfs.sh KERNEL_DIR      # KERNEL_DIR as printed by kernel.sh
# Contents: static busybox, the host's ip, nft, iptables-nft, bash, curl, jq, the Debian CNI
# plugins ptp/host-local/loopback, every shared library those need plus the ones coil
# dlopen()s (libcurl, libgnutls, libmicrohttpd: ldd cannot see those), the kernel modules of
# the egress data path with their dependencies, and guest-init.sh as /init.
# Things that change with each build of the project (coil, test programs, scenario scripts)
# are NOT in here: they reach the guest through the 9p share (see guest.sh), so this image
# is rebuilt only when its inputs change. The cache key is a hash over every input file's
# content, the module list and this script.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${COIL_GUEST_CACHE:-/var/cache/coil-test/guest}
KDIR=${1:?usage: initramfs.sh KERNEL_DIR}
KVER=$(cat "$KDIR/kver")
MODROOT="$KDIR/root/lib/modules/$KVER"
log() { printf 'guest initramfs: %s\n' "$*" >&2; }
die() {
	log "$*"
	exit 1
}

# Loaded by /init at boot, in this order (crc32c_generic before libcrc32c: the soft
# dependency that modules.dep does not record). fou, fou6, ipip and ip6_tunnel are shipped
# but not loaded: the programs under test must load them themselves.
BOOT_MODULES=(virtio_pci virtio_net 9pnet_virtio 9p crc32c_generic libcrc32c veth dummy bridge
	nf_conntrack nf_conntrack_netlink nf_nat nf_tables nft_chain_nat nft_nat nft_masq nft_ct
	nft_compat xt_MASQUERADE xt_connmark xt_conntrack xt_nat xt_tcpudp xt_mark xt_comment
	xt_addrtype xt_multiport xt_CHECKSUM nft_reject_inet nft_fib_inet)
ON_DEMAND_MODULES=(fou fou6 ipip ip6_tunnel)
TOOLS=(/usr/sbin/ip /usr/sbin/nft /usr/sbin/xtables-nft-multi /bin/bash /usr/bin/curl /usr/bin/jq)
CNI_PLUGINS=(ptp host-local loopback)
DLOPENED=(libcurl.so.4 libgnutls.so.30 libmicrohttpd.so.12)
DATA=(/etc/protocols /etc/services /usr/lib/x86_64-linux-gnu/xtables)
BUSYBOX=/bin/busybox

[ -x "$BUSYBOX" ] ||
	die "$BUSYBOX missing: apt-get install busybox-static"
for t in "${TOOLS[@]}"; do [ -x "$t" ] || die "$t missing (scripts/deps.sh test installs it)"; done
for p in "${CNI_PLUGINS[@]}"; do
	[ -x "/usr/lib/cni/$p" ] || die "/usr/lib/cni/$p missing: apt-get install containernetworking-plugins"
done

libdir=/usr/lib/x86_64-linux-gnu
# libs_of FILE...: the shared libraries (resolved paths, the loader too) those files need.
libs_of() {
	ldd "$@" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\/lib64\// { print $1 }' | sort -u
}
dlopened=()
for so in "${DLOPENED[@]}"; do
	[ -e "$libdir/$so" ] || die "$libdir/$so missing (coil dlopen()s it)"
	dlopened+=("$(readlink -f "$libdir/$so")")
done
mapfile -t libs < <(libs_of "${TOOLS[@]}" "${dlopened[@]}")

# module_closure NAME...: the .ko paths (relative to MODROOT) of NAMEs and their dependencies.
module_closure() {
	local name path
	for name in "$@"; do
		path=$(awk -v n="$name" -F: '{ f = $1; sub(/.*\//, "", f); sub(/\.ko.*$/, "", f);
			gsub(/-/, "_", f); if (f == n) { print $0; exit } }' "$MODROOT/modules.dep")
		[ -n "$path" ] || die "module $name not in $KVER"
		echo "$path" | tr ': ' '\n\n' | grep .
	done | sort -u
}
mapfile -t modules < <(module_closure "${BOOT_MODULES[@]}" "${ON_DEMAND_MODULES[@]}")

# The cache key: the content of every input plus the lists and this script.
key=$({
	printf '%s\n' "$KVER" "${BOOT_MODULES[*]}" "${ON_DEMAND_MODULES[*]}"
	# the rig's own scripts by content only: every worktree shares one image
	cat "$HERE/initramfs.sh" "$HERE/guest-init.sh" | sha256sum
	sha256sum "$BUSYBOX" "${TOOLS[@]}" "${libs[@]}" "${dlopened[@]}" \
		"${CNI_PLUGINS[@]/#//usr/lib/cni/}"
	find "${DATA[@]}" -type f -print0 | sort -z | xargs -0 sha256sum
	(cd "$MODROOT" && sha256sum "${modules[@]}")
} | sha256sum | cut -c1-16)
out="$CACHE/initramfs-$KVER-$key.cpio.zst"
if [ -e "$out" ]; then
	echo "$out"
	exit 0
fi

log "building $out"
mkdir -p "$CACHE"
root=$(mktemp -d "$CACHE/.initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,share,opt/bin,var/run/netns}
cp "$BUSYBOX" "$root/bin/busybox"
for applet in $("$BUSYBOX" --list); do
	[ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
# modprobe where the kernel and the programs look for it.
ln -sf ../bin/busybox "$root/sbin/modprobe"
for f in "${TOOLS[@]}" "${libs[@]}" "${dlopened[@]}"; do
	cp --parents -L "$f" "$root"
done
for so in "${DLOPENED[@]}"; do
	ln -sf "$(basename "$(readlink -f "$libdir/$so")")" "$root$libdir/$so"
done
for name in iptables ip6tables iptables-save ip6tables-save iptables-restore ip6tables-restore; do
	ln -s xtables-nft-multi "$root/usr/sbin/$name"
done
mkdir -p "$root/usr/lib/cni"
for p in "${CNI_PLUGINS[@]}"; do cp "/usr/lib/cni/$p" "$root/usr/lib/cni/"; done
for d in "${DATA[@]}"; do cp -a --parents "$d" "$root"; done
mkdir -p "$root/lib/modules/$KVER"
(cd "$MODROOT" && cp --parents "${modules[@]}" "$root/lib/modules/$KVER/")
cp "$MODROOT"/modules.builtin "$MODROOT"/modules.order "$root/lib/modules/$KVER/"
"$BUSYBOX" depmod -b "$root" "$KVER"
printf '%s\n' "${BOOT_MODULES[@]}" >"$root/etc/boot-modules"
echo "$KVER" >"$root/etc/kver"
printf 'root:x:0:0:root:/root:/bin/bash\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$root/etc/hosts"
printf 'hosts: files\n' >"$root/etc/nsswitch.conf"
install -m 0755 "$HERE/guest-init.sh" "$root/init"
(cd "$root" && find . -mindepth 1 | "$BUSYBOX" cpio -o -H newc 2>/dev/null) | zstd -q -T2 -9 >"$out.tmp"
mv "$out.tmp" "$out"
# Older images of this kernel are superseded: keep the cache from growing without bound.
find "$CACHE" -maxdepth 1 -name "initramfs-*.cpio.zst" ! -name "$(basename "$out")" -mmin +60 -delete
log "$(du -h "$out" | cut -f1) in $out"
echo "$out"
