#!/usr/bin/env bash
# Builds coil's container image from Debian packages and the coil binary, with podman and no
# registry, and saves it as an OCI archive that `ctr images import` and `docker load` accept.
#
# The root holds what upstream's image carries next to coil: iptables (nf_tables flavour as
# `iptables`), nftables, iproute2, conntrack, kmod, plus the libraries coil loads at run time
# with dlopen (libmicrohttpd, GnuTLS, and Debian's libcurl3-gnutls unless coil brings its own
# lean libcurl; ldd does not show them). It is unpacked with dpkg-deb from the machine's apt
# sources (no debootstrap: about 60 packages instead of 90, no maintainer scripts) and cached
# by the exact package versions, so a warm build only copies.
#
# Usage: scripts/image.sh [--coil PATH] [--coil-static PATH] [--out FILE]
#        build (defaults: build/cmd/coil, coil-static beside it, build/coil-image.tar)
#        scripts/image.sh --ref                        print the image reference
# The reference lives in one place: the `images:` entry of deploy/image/Kustomization.
# Cache: $COIL_IMAGE_CACHE (default /var/cache/coil-image). Needs root, podman, jq.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
cache=${COIL_IMAGE_CACHE:-/var/cache/coil-image}
coil=$repo/build/cmd/coil
coil_static= # default: coil-static beside $coil
out=$repo/build/coil-image.tar

# The programs upstream ships, each a link to the multi-call binary.
programs=(coild coil-installer coil-ipam-controller coil-router coil-egress
	coil-egress-controller coil-migrator)
packages=(iptables nftables iproute2 conntrack kmod libmicrohttpd12 libgnutls30 netbase dash)
# The libraries installed with coil (COIL_CURL=minimal: its own libcurl), at ../lib/coil
# relative to the binary, as the build and lib/lazy place them; they go to /usr/local/lib/coil
# beside /usr/local/coil. Without them (COIL_CURL=system) coil loads Debian's libcurl.
private_libs= # default: ../lib/coil beside $coil
# Bump when the way the root is assembled changes, so old caches are not reused.
root_format=2

log() { printf 'image.sh: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

# image_ref: NAME:TAG from the `images:` entry for `coil` in deploy/image/Kustomization.
image_ref() {
	awk '/^images:/ {on = 1; next} /^[^ -]/ {on = 0}
		on && /- name: coil$/ {hit = 1; next}
		hit && /newName:/ {name = $2} hit && /newTag:/ {tag = $2; gsub(/"/, "", tag)}
		END {if (name == "" || tag == "") exit 1; print name ":" tag}' \
		"$repo/deploy/image/Kustomization" || die "no images: entry for coil in deploy/image/Kustomization"
}

# The coil binary links libmnl and glibc dynamically unless it was built static: add the
# packages of whatever it links, found through ldd (empty for a static binary).
linked_packages() {
	local lib
	ldd "$coil" 2>/dev/null | awk '$3 ~ /^\// {print $3}' | while read -r lib; do
		dpkg -S "$(realpath "$lib")" 2>/dev/null || dpkg -S "$lib" 2>/dev/null || true
	done | cut -d: -f1 | sort -u
}

# cached_deb NAME=VERSION: the downloaded .deb of exactly that version, if any. apt-get
# download writes an epoch as "%3a" (conntrack_1%3a1.4.7-1+b2_amd64.deb); without one the
# version stands as it is.
cached_deb() {
	local name=${1%%=*} version=${1#*=}
	find "$cache/debs" -maxdepth 1 \( -name "${name}_${version/:/%3a}_*.deb" \
		-o -name "${name}_${version}_*.deb" \) | head -n1
}

# assemble_root DIR: unpack every package of the closure into DIR.
assemble_root() {
	local dir=$1 list=$2 deb pv
	mkdir -p "$cache/debs" "$dir"
	# Merged /usr as on a Debian 12 system: packages still ship /lib, /bin, /sbin paths.
	mkdir -p "$dir/usr/bin" "$dir/usr/sbin" "$dir/usr/lib" "$dir/usr/lib64"
	for d in bin sbin lib lib64; do ln -s "usr/$d" "$dir/$d"; done
	while read -r pv; do
		deb=$(cached_deb "$pv")
		if [[ -z $deb ]]; then
			(cd "$cache/debs" && apt-get download -q "$pv" >/dev/null 2>&1) || return 1
			deb=$(cached_deb "$pv")
		fi
		[[ -n $deb ]] || die "no .deb for $pv in $cache/debs"
		dpkg-deb --fsys-tarfile "$deb" | tar -x --keep-directory-symlink -C "$dir"
	done <"$list"
	# What maintainer scripts and update-alternatives would have made.
	for t in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
		ln -sf "${t/tables/tables-nft}" "$dir/usr/sbin/$t"
	done
	ln -sf dash "$dir/usr/bin/sh"
	mkdir -p "$dir/run" "$dir/var" "$dir/tmp" "$dir/etc" "$dir/proc" "$dir/sys" "$dir/dev"
	# coild's default --state-dir is /var/lib/coil: upstream's DaemonSet passes no such flag,
	# so the image must let the daemon create it (records there last as long as the container).
	mkdir -p "$dir/var/lib"
	chmod 1777 "$dir/tmp"
	# The runtime passes pod netns paths under /var/run/netns; /run is the host's.
	ln -s ../run "$dir/var/run"
	# Documentation and locales are not needed in a container.
	rm -rf "$dir/usr/share/doc" "$dir/usr/share/man" "$dir/usr/share/info" \
		"$dir/usr/share/locale" "$dir/usr/share/lintian" "$dir/usr/share/bash-completion"
	ldconfig -r "$dir" 2>/dev/null || true
}

# runtime_packages: the packages coil loads at run time, ldd cannot see them (dlopen).
runtime_packages() {
	printf '%s\n' "${packages[@]}"
	[[ -e $private_libs/libcoil-curl.so.4 ]] || echo libcurl3-gnutls
}

# cached_root: print the cached root for the current package versions, making it if needed.
# Fails (without dying) when a package cannot be downloaded: the apt lists may be stale.
cached_root() {
	local list key root tmp
	mkdir -p "$cache"
	list=$(mktemp "$cache/closure.XXXXXX")
	# shellcheck disable=SC2046 # one package name a word
	"$here/image/closure.sh" $(runtime_packages) $(linked_packages) >"$list" ||
		die "resolving the packages failed"
	key=$( (echo "$root_format" && cat "$list") | sha256sum | cut -c1-16)
	root=$cache/root-$key
	if [[ ! -d $root ]]; then
		log "assembling the root from $(wc -l <"$list") packages into $root"
		tmp=$(mktemp -d "$cache/root.new.XXXXXX")
		if ! assemble_root "$tmp" "$list"; then
			rm -rf "$tmp" "$list"
			return 1
		fi
		cp "$list" "$tmp.packages"
		mv "$tmp" "$root" # atomic: a concurrent build never sees half a root
		mv "$tmp.packages" "$root.packages"
	fi
	rm -f "$list"
	echo "$root"
}

# write_archive OCI_DIR REF OUT: the OCI layout with the full reference in the annotations
# containerd reads, plus the manifest.json `docker load` reads, as one tar.
write_archive() {
	local oci=$1 ref=$2 out=$3 manifest config
	manifest=$(jq -r '.manifests[0].digest' "$oci/index.json")
	jq --arg ref "$ref" '.manifests[0].annotations = {"io.containerd.image.name": $ref,
		"org.opencontainers.image.ref.name": $ref}' "$oci/index.json" >"$oci/index.json.new"
	mv "$oci/index.json.new" "$oci/index.json"
	config=$(jq -r '.config.digest' "$oci/blobs/sha256/${manifest#sha256:}")
	jq -n --arg ref "$ref" --arg config "blobs/sha256/${config#sha256:}" \
		--argjson layers "$(jq '[.layers[].digest | "blobs/sha256/" + ltrimstr("sha256:")]' \
			"$oci/blobs/sha256/${manifest#sha256:}")" \
		'[{Config: $config, RepoTags: [$ref], Layers: $layers}]' >"$oci/manifest.json"
	tar -C "$oci" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$out.new" .
	mv "$out.new" "$out"
}

build() {
	local ref root old_id new_id
	ref=$(image_ref)
	[[ -x $coil ]] || die "no coil binary at $coil (build it first: scripts/build.sh)"
	coil_static=${coil_static:-$(dirname "$coil")/coil-static}
	private_libs=$(dirname "$coil")/../lib/coil
	[[ -x $coil_static ]] || die "no static host plugin at $coil_static (a normal build makes it)"
	command -v podman >/dev/null || die "podman is needed (scripts/deps.sh test)"
	command -v jq >/dev/null || die "jq is needed (scripts/deps.sh test)"
	if ! root=$(cached_root); then
		log "a package download failed; refreshing the apt lists and resolving again"
		apt-get update -qq || die "apt-get update failed"
		root=$(cached_root) || die "downloading the packages failed (see above)"
	fi
	old_id=$(podman image inspect --format '{{.Id}}' "$ref" 2>/dev/null || true)
	# In the cache dir: the hard links below need the same file system.
	ctx=$(mktemp -d "$cache/context.XXXXXX")
	trap 'rm -rf "$ctx"' EXIT
	# Hard links: the build context costs no copy of the root.
	cp -al "$root" "$ctx/root"
	mkdir "$ctx/coil"
	cp "$coil" "$ctx/coil/coil"
	mkdir -p "$ctx/lib/coil"
	if [[ -d $private_libs ]]; then cp -L "$private_libs"/* "$ctx/lib/coil/"; fi
	# The host plugin: the same program linked statically, which coil-installer copies to
	# the node (the image's coil links glibc and libmnl, which a host may lack).
	cp "$coil_static" "$ctx/coil/coil-static"
	for p in "${programs[@]}"; do ln -s coil "$ctx/coil/$p"; done
	# --timestamp 0: same inputs, same image digest.
	podman build -q --network=none --timestamp 0 -f "$here/image/Containerfile" -t "$ref" \
		"$ctx" >/dev/null || die "podman build failed"
	podman push -q "$ref" "oci:$ctx/oci" >/dev/null || die "podman push to an OCI layout failed"
	mkdir -p "$(dirname "$out")"
	write_archive "$ctx/oci" "$ref" "$out"
	# The archive is the product: drop the image this build replaced from podman's store
	# (only ours, by ID), so that rebuilds do not pile up there.
	new_id=$(podman image inspect --format '{{.Id}}' "$ref")
	if [[ -n $old_id && $old_id != "$new_id" ]]; then
		podman rmi -f "$old_id" >/dev/null 2>&1 || true
	fi
	log "$ref -> $out ($(du -h "$out" | cut -f1))"
}

case ${1:-} in
--ref)
	image_ref
	exit 0
	;;
esac
while (($#)); do
	case $1 in
	--coil) coil=$(realpath "$2") ;;
	--coil-static) coil_static=$(realpath "$2") ;;
	--out) out=$(realpath -m "$2") ;;
	*) die "unknown option $1 (see the header of $0)" ;;
	esac
	shift 2
done
build
