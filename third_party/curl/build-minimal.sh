#!/usr/bin/env bash
# Builds the lean libcurl coil loads when configured with COIL_CURL=minimal (see
# CMakeLists.txt beside this script): Debian 12's own curl source, the same version and
# security patches as the libcurl3-gnutls package, configured for HTTP and HTTPS over
# GnuTLS only. Debian's packages enable every protocol and pull 20-odd libraries (libssh2
# with OpenSSL's libcrypto, LDAP, SASL, Kerberos, RTMP, nghttp2, brotli, zstd, psl, idn2)
# whose relocations cost each coil daemon about 3 MiB of resident memory for nothing.
#
#   third_party/curl/build-minimal.sh OUT     writes the shared library to OUT
#
# The sources are downloaded once into $COIL_BUILD_CACHE (default /var/cache/coil-build, or
# ~/.cache/coil-build for a user who cannot write there) and checked against the SHA-256
# sums of Debian's .dsc; the built library is cached there too, keyed by the version and the
# flags below, so every build directory (gcc, clang, sanitizers) shares one build and a warm
# build only copies. The library is always built with the system's cc and Debian's
# hardening flags, whatever compiler the coil build uses.
set -euo pipefail

out=${1:?usage: $0 OUT}
version=7.88.1
revision=10+deb12u15
orig=curl_$version.orig.tar.gz
orig_sha256=cdb38b72e36bc5d33d5b8810f8018ece1baa29a8f215b4495e495ded82bbf3c7
orig_sha1=6ae5229c36badb822641bb14958e7d227c57611d
debian=curl_$version-$revision.debian.tar.xz
debian_sha256=961b78bc48492c5693e4decb352ddd176f343260a8956f48b2887874048ef23b
debian_sha1=03b665ea82b1f319f6944c9473c8c9fd9980838b
# The pool holds a revision only until the next one; snapshot.debian.org keeps every file
# by its SHA-1.
pool=http://deb.debian.org/debian/pool/main/c/curl
snapshot=https://snapshot.debian.org/file

# Everything but HTTP(S) off. Proxies stay: libcurl honours https_proxy/no_proxy as
# Kubernetes clients do. The CA defaults are Debian's, for a URL without an explicit CA.
configure_flags=(--disable-static --enable-shared --disable-dependency-tracking
	--with-gnutls --without-openssl --enable-threaded-resolver
	--disable-ftp --disable-file --disable-ldap --disable-ldaps --disable-rtsp --disable-dict
	--disable-telnet --disable-tftp --disable-pop3 --disable-imap --disable-smb --disable-smtp
	--disable-gopher --disable-mqtt --disable-websockets --disable-manual --disable-ntlm
	--disable-ntlm-wb --disable-tls-srp --disable-alt-svc --disable-hsts --disable-cookies
	--disable-mime --disable-netrc --disable-doh
	--without-librtmp --without-libssh2 --without-libssh --without-wolfssh --without-nghttp2
	--without-ngtcp2 --without-nghttp3 --without-quiche --without-msh3 --without-hyper
	--without-libpsl --without-brotli --without-zstd --without-zlib --without-libidn2
	--without-gssapi --without-libgsasl
	--with-ca-bundle=/etc/ssl/certs/ca-certificates.crt --with-ca-path=/etc/ssl/certs
	--without-ca-fallback)
cflags='-O2 -g -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fcf-protection'
ldflags='-Wl,-z,relro -Wl,-z,now'

log() { printf 'curl-minimal: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

# fetch FILE SHA256 SHA1: FILE in the cache, downloaded and verified if it is not there.
fetch() {
	local file=$1 sha256=$2 sha1=$3 url
	if [[ -f $cache/$file ]] && echo "$sha256  $cache/$file" | sha256sum -c --status; then
		return 0
	fi
	for url in "$pool/$file" "$snapshot/$sha1"; do
		log "downloading $url"
		if curl -fsSL --retry 2 -o "$cache/$file.part" "$url" &&
			echo "$sha256  $cache/$file.part" | sha256sum -c --status; then
			mv "$cache/$file.part" "$cache/$file"
			return 0
		fi
		log "$url failed or does not match SHA-256 $sha256"
	done
	rm -f "$cache/$file.part"
	die "cannot fetch $file into $cache (offline? put it there, or configure with -DCOIL_CURL=system)"
}

# default_cache: /var/cache/coil-build if it is (or can be made) writable, else the user's.
default_cache() {
	local system=/var/cache/coil-build
	if mkdir -p "$system" 2>/dev/null && [[ -w $system ]]; then
		echo "$system"
	else
		echo "${XDG_CACHE_HOME:-$HOME/.cache}/coil-build"
	fi
}

# build DEST: unpack, apply Debian's patches, configure and build libcurl only.
build() {
	local dest=$1 work src patch
	work=$(mktemp -d "$cache/curl-build.XXXXXX")
	# shellcheck disable=SC2064 # $work is local: expand it now
	trap "rm -rf '$work'" EXIT
	tar -xzf "$cache/$orig" -C "$work"
	tar -xJf "$cache/$debian" -C "$work"
	src=$work/curl-$version
	# Debian's series without 90_gnutls/99_nss: those only rename the library for the
	# GnuTLS and NSS flavours of its packages.
	grep -Ev '^[[:space:]]*(#|$)|^(90_gnutls|99_nss)\.patch' "$work/debian/patches/series" |
		while read -r patch; do
			patch -d "$src" -p1 -s --no-backup-if-mismatch <"$work/debian/patches/$patch" ||
				die "Debian patch $patch does not apply"
		done
	log "configuring (HTTP and HTTPS over GnuTLS only)"
	(cd "$src" && CC=cc CFLAGS=$cflags LDFLAGS=$ldflags \
		./configure -q "${configure_flags[@]}" >"$work/configure.log" 2>&1) ||
		die "configure failed: $(tail -n 20 "$work/configure.log")"
	log "building"
	make -s -C "$src/lib" -j "$(nproc)" >"$work/make.log" 2>&1 ||
		die "make failed: $(tail -n 20 "$work/make.log")"
	cp "$src/lib/.libs/libcurl.so.4.8.0" "$dest.tmp"
	mv "$dest.tmp" "$dest"
	rm -rf "$work"
	trap - EXIT
}

cache=${COIL_BUILD_CACHE:-$(default_cache)}
mkdir -p "$cache"
# What makes the library: a change of any of it builds again.
key=$(echo "$version $revision ${configure_flags[*]} $cflags $ldflags" | sha256sum | cut -c1-12)
built=$cache/libcurl-$version-$revision-minimal-$key.so.4
# One build at a time: the build directories of a suite run may build in parallel.
exec 9>"$cache/curl-minimal.lock"
flock 9
if [[ ! -f $built ]]; then
	fetch "$orig" "$orig_sha256" "$orig_sha1"
	fetch "$debian" "$debian_sha256" "$debian_sha1"
	build "$built"
fi
mkdir -p "$(dirname "$out")"
cp "$built" "$out.tmp"
mv "$out.tmp" "$out"
