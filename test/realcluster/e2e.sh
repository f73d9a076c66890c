#!/bin/bash
# The end-to-end suite (test/e2e/run.sh) on the running test cluster with coil deployed
# (cluster.sh up, deploy-coil.sh). The suite runs in the control-plane netns, where the
# API server listens, with the cluster's own kubectl; test pods use the busybox image every
# node imported at `up`. The cluster is dual-stack and so is the default pool deploy-coil.sh
# applies, so the family is dual-stack: every pod has an IPv4 and an IPv6 address, and the
# connectivity tests ping both (COIL_E2E_FAMILY=ipv4 or ipv6 after deploy-coil.sh --family).
#
#   test/realcluster/e2e.sh [run.sh options, e.g. --only scale]
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RC_DIR=${COIL_REALCLUSTER_DIR:-/var/tmp/coil-realcluster}
artifacts=${COIL_E2E_ARTIFACTS:-$RC_DIR.e2e}
rm -rf "$artifacts"
exec "$HERE/cluster.sh" exec env KUBECTL=kubectl "$HERE/../e2e/run.sh" \
	--kubeconfig "$RC_DIR/kubeconfig/admin.kubeconfig" --family "${COIL_E2E_FAMILY:-dual-stack}" --mode ipam \
	--image localhost/coil-test/sandbox:1 --pull-policy Never --artifacts "$artifacts" "$@"
