#!/bin/bash
# Deploys coil on the running test cluster (cluster.sh up) as a user would: the image built
# by scripts/image.sh imported into every node's containerd, then `kubectl apply -k deploy`
# and `kubectl apply -k deploy/router` (the nodes share one L2 bridge and nothing else routes
# between their pod addresses) with the cluster's own kubectl (kustomize built in), and the
# default AddressPool of the end-to-end runs (kind/pools/FAMILY.yaml: IPv4 and IPv6 subnets on
# this dual-stack cluster unless --family ipv4 or ipv6) once the webhook answers.
# The manifests are used as they are: the image reference localhost/coil:dev with a non-latest
# tag makes kubelet's default pull policy IfNotPresent, so the imported image is used.
#
#   test/realcluster/deploy-coil.sh [--coil PATH] [--family dual-stack|ipv4|ipv6]
#   (--coil: default build/cmd/coil, coil-static beside it; --family: default dual-stack)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CLUSTER=$HERE/cluster.sh
RC_DIR=${COIL_REALCLUSTER_DIR:-/var/tmp/coil-realcluster}
coil=$REPO/build/cmd/coil family=dual-stack
while (($#)); do
	case $1 in
	--coil) coil=$2 && shift ;;
	--family) family=$2 && shift ;;
	*) echo "deploy-coil: unknown option $1" >&2 && exit 2 ;;
	esac
	shift
done

log() { printf 'deploy-coil: %s\n' "$*" >&2; }
kc() { "$CLUSTER" exec kubectl "$@"; }

[[ -x $coil ]] || { log "no coil binary at $coil (build it first)"; exit 1; }
start=$SECONDS
"$REPO/scripts/image.sh" --coil "$coil" --out "$RC_DIR/coil-image.tar"
"$CLUSTER" image-import "$RC_DIR/coil-image.tar"
log "image $("$REPO/scripts/image.sh" --ref) imported on every node"
(cd "$REPO" && kc apply -k deploy && kc apply -k deploy/router)
kc -n kube-system rollout status daemonset/coild --timeout=300s
kc -n kube-system rollout status daemonset/coil-router --timeout=300s
kc -n kube-system rollout status deployment/coil-ipam-controller --timeout=300s
# The AddressPool webhook answers once the rotated certificate reached the replicas'
# Secret volume (kubelet refreshes it within about a minute).
for _ in $(seq 60); do
	kc apply -f "$REPO/kind/pools/$family.yaml" >/dev/null 2>&1 && break
	sleep 3
done
kc get addresspool default >/dev/null || { log "the default AddressPool could not be created"; exit 1; }
for node in "$RC_DIR"/nodes/node-*; do
	log "$(basename "$node") CNI config: $(ls "$node/cni-conf" | tr '\n' ' ')"
	[[ $(ls "$node/cni-conf") == 10-coil.conflist ]] || { log "coil-installer did not replace the CNI config"; exit 1; }
done
kc -n kube-system get pods -o wide
log "coil deployed in $((SECONDS - start)) s"
