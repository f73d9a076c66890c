#!/usr/bin/env bash
# Installs the Debian packages coil needs. Usage: scripts/deps.sh build|test|demo
# test includes podman and jq for the container image (scripts/image.sh), and etcd-server for
# the real-cluster tier (test/realcluster) and the coil migrate tests (Coil v1 data in etcd),
# and qemu-system-x86 for the guest-kernel tier (test/guest: FoU, IPIP, dummy links), and bird2
# for the BIRD example (test/node/test_bird.sh runs its own BIRDs in network namespaces).
set -euo pipefail

# coil is built against libcurl4-openssl-dev's headers but loads a GnuTLS libcurl at run time
# (one TLS stack with libmicrohttpd's): by default its own lean build of Debian's curl source
# (third_party/curl, which downloads with curl and unpacks with xz and patch), with
# COIL_CURL=system Debian's libcurl3-gnutls.
build_pkgs=(build-essential cmake pkg-config libmnl-dev libnftnl-dev libjansson-dev libyaml-dev check
	libcurl4-openssl-dev libcurl3-gnutls libmicrohttpd-dev libgnutls28-dev curl xz-utils patch)
# The sanitizer and fuzz builds use clang and its runtime libraries.
test_pkgs=(clang libclang-rt-14-dev iproute2 iputils-ping nftables iptables
	containernetworking-plugins containerd runc busybox-static python3 python3-grpcio procps
	util-linux openssl python3-kubernetes python3-yaml podman jq etcd-server curl zstd
	qemu-system-x86 bird2)
demo_pkgs=(iproute2 iputils-ping procps)

case "${1:-build}" in
build) pkgs=("${build_pkgs[@]}") ;;
test) pkgs=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
demo) pkgs=("${build_pkgs[@]}" "${demo_pkgs[@]}") ;;
*) echo "usage: $0 build|test|demo" >&2; exit 2 ;;
esac

if [ "$(id -u)" -ne 0 ]; then
	echo "scripts/deps.sh: run as root (it installs Debian packages)" >&2
	exit 1
fi
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian starts the bird service on installation where systemd runs; the tests start their
# own BIRDs, so one we just installed is stopped and disabled (an existing one is left alone).
if [[ " ${missing[*]:-} " == *" bird2 "* ]] && [ -d /run/systemd/system ]; then
	systemctl disable --now bird.service >/dev/null 2>&1 || echo "note: could not stop bird.service" >&2
fi
