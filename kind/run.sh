#!/usr/bin/env bash
# Runs coil's end-to-end suite on a kind cluster: builds coil and its image, creates the
# cluster from one of the configs here, loads the image into its nodes, applies deploy/ (or
# the egress-only overlay when kindnet stays), waits for coil to be ready, and calls the
# end-to-end suite's entry point, test/e2e/run.sh.
#
# Usage: kind/run.sh [--family ipv4|ipv6|dual-stack] [--kindnet] [--name NAME] [--keep]
#   --family    IP family of the cluster (default ipv4): kind/FAMILY.yaml
#   --kindnet   keep kind's kindnet for addresses and chain coil after it
#               (kind/FAMILY-kindnet.yaml, deploy/overlays/egress-only/FAMILY)
#   --name      kind cluster name (default coil-e2e)
#   --keep      leave the cluster running afterwards (default: delete it)
#
# Needs a machine with a Docker engine, kind and kubectl on PATH, plus what building coil
# and its image needs (Debian 12: scripts/deps.sh test; Go at /usr/local/go for kustomize),
# and jq for the suite. The suite, test/e2e/run.sh, is the one test/realcluster runs on the
# one-machine cluster of the project's CI; its test pods pull busybox:1.36 here.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
family=ipv4 kindnet=false name=coil-e2e keep=false

log() { printf 'kind/run.sh: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

while (($#)); do
	case $1 in
	--family) family=$2 && shift ;;
	--kindnet) kindnet=true ;;
	--name) name=$2 && shift ;;
	--keep) keep=true ;;
	*) die "unknown option $1 (see the header of $0)" ;;
	esac
	shift
done
case $family in ipv4 | ipv6 | dual-stack) ;; *) die "--family must be ipv4, ipv6 or dual-stack" ;; esac
for tool in docker kind kubectl; do
	command -v "$tool" >/dev/null || die "$tool is not on PATH (this script needs a Docker engine and kind)"
done
docker info >/dev/null 2>&1 || die "no Docker engine answers (docker info failed)"

config=$here/$family.yaml
install=$repo/deploy
if $kindnet; then
	config=$here/$family-kindnet.yaml
	install=$repo/deploy/overlays/egress-only/$family
fi
kubeconfig=$(mktemp "${TMPDIR:-/tmp}/coil-kind-kubeconfig.XXXXXX")
cleanup() {
	local rc=$?
	if ! $keep; then
		kind delete cluster --name "$name" >/dev/null 2>&1 || true
		rm -f "$kubeconfig"
	else
		log "cluster $name kept; KUBECONFIG=$kubeconfig"
	fi
	exit "$rc"
}

log "building coil and its image"
COIL_TARGET=coil "$repo/scripts/build.sh" normal
"$repo/scripts/image.sh" --out "$repo/build/coil-image.tar"
kustomize=$("$repo/scripts/kustomize.sh")

log "creating kind cluster $name from $config"
kind create cluster --name "$name" --config "$config" --kubeconfig "$kubeconfig" --wait 0s
trap cleanup EXIT
export KUBECONFIG=$kubeconfig
kind load image-archive "$repo/build/coil-image.tar" --name "$name"

log "applying $install"
"$kustomize" build "$install" | kubectl apply -f -
kubectl -n kube-system rollout status daemonset/coild --timeout=300s
if ! $kindnet; then
	kubectl -n kube-system rollout status deployment/coil-ipam-controller --timeout=300s
	# The AddressPool webhook must answer before a pool can be created.
	for _ in $(seq 60); do
		kubectl apply -f "$here/pools/$family.yaml" 2>/dev/null && break
		sleep 5
	done
	kubectl get addresspool default >/dev/null || die "the default AddressPool could not be created"
fi
kubectl wait --for=condition=Ready nodes --all --timeout=300s

e2e=$repo/test/e2e/run.sh
log "running $e2e"
"$e2e" --kubeconfig "$kubeconfig" --family "$family" \
	--mode "$($kindnet && echo egress-only || echo ipam)"
