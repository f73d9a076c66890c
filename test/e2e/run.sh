#!/usr/bin/env bash
# coil's end-to-end suite: runs against any Kubernetes cluster where coil is deployed from
# deploy/ (and deploy/router on flat L2 networks) and the default AddressPool exists. Only
# kubectl talks to the cluster, so the same suite runs on kind (kind/run.sh) and on the
# one-machine cluster of test/realcluster (test/realcluster/e2e.sh).
#
# Usage: test/e2e/run.sh --kubeconfig FILE [--family ipv4|ipv6|dual-stack] [--mode ipam|egress-only]
#                        [--image IMAGE] [--pull-policy POLICY] [--only REGEX] [--artifacts DIR]
#   --image        a busybox image for the test pods (default busybox:1.36; run as /bin/busybox)
#   --pull-policy  its imagePullPolicy (default IfNotPresent; Never for preloaded images)
#   --only         run only the tests whose name matches REGEX (the RBAC check always runs)
#   --artifacts    where coil's logs are kept (default: a temp dir, printed at the end)
# KUBECTL names the kubectl to use (default: kubectl on PATH).
#
# The tests, in order (ipam mode; egress-only runs connectivity and the log check only, since
# coil's egress NAT does not exist yet):
#   connectivity   a pod on every node reaches the pods on the other nodes (every family)
#   pool-select    a Namespace annotation picks the pool of its pods
#   webhooks       each kind of invalid AddressPool is denied by coil's admission webhook
#   exhaustion     a pod of a full pool stays ContainerCreating with the error in its events,
#                  and starts once an address is freed
#   node-gc        the blocks of a deleted Node are collected
#   coild-restart  a rolling restart of coild keeps every pod's address and connectivity,
#                  and new pods get addresses no other pod holds
#   leader         deleting the leader coil-ipam-controller hands leadership over; pods start
#   egress-controller  what coil-egress-controller makes of Egresses (test/e2e/egress.sh): the
#                  gateway Deployment, Service, ServiceAccount, binding subjects, status; a
#                  template change rolls a new ReplicaSet; an HPA scales the Egress through
#                  /scale; a PDB comes and goes with the Egress's podDisruptionBudget; the
#                  garbage collector removes what a deleted Egress owned
#   scale          a 100-pod Deployment on one node becomes Ready; time and CNI share printed
#   api-warnings   coil-ipam-controller logged the API server's Warning header about its
#                  blocks' finalizer (and its creates succeeded)
#   rbac           no coil log (of every coil pod the suite saw) shows an RBAC denial
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kubeconfig= family=ipv4 mode=ipam image=busybox:1.36 pull=IfNotPresent only=. artifacts=

die() {
	printf 'e2e: error: %s\n' "$*" >&2
	exit 2
}
while (($#)); do
	case $1 in
	--kubeconfig) kubeconfig=$2 && shift ;;
	--family) family=$2 && shift ;;
	--mode) mode=$2 && shift ;;
	--image) image=$2 && shift ;;
	--pull-policy) pull=$2 && shift ;;
	--only) only=$2 && shift ;;
	--artifacts) artifacts=$2 && shift ;;
	*) die "unknown option $1 (see the header of $0)" ;;
	esac
	shift
done
[[ -n $kubeconfig && -r $kubeconfig ]] || die "--kubeconfig FILE is required and must be readable"
case $family in ipv4 | ipv6 | dual-stack) ;; *) die "--family must be ipv4, ipv6 or dual-stack" ;; esac
case $mode in ipam | egress-only) ;; *) die "--mode must be ipam or egress-only" ;; esac
[[ -n $artifacts ]] || artifacts=$(mktemp -d "${TMPDIR:-/tmp}/coil-e2e.XXXXXX")
mkdir -p "$artifacts/logs"
KUBECTL=${KUBECTL:-kubectl}
command -v "$KUBECTL" >/dev/null || die "no kubectl ($KUBECTL)"
command -v jq >/dev/null || die "jq is needed"

# shellcheck source=lib.sh
source "$here/lib.sh"
# shellcheck source=tests.sh
source "$here/tests.sh"
# shellcheck source=egress.sh
source "$here/egress.sh"

e2e_log "kubectl $(k version -o json | jq -r '"client \(.clientVersion.gitVersion), server \(.serverVersion.gitVersion)"')"
k get nodes -o wide
trap e2e_cleanup EXIT

tests=(connectivity)
[[ $mode == egress-only ]] || tests+=(pool-select webhooks exhaustion node-gc coild-restart leader egress-controller scale api-warnings)
for t in "${tests[@]}"; do
	[[ $t =~ $only ]] || continue
	e2e_run "$t" "test_${t//-/_}"
done
e2e_run rbac test_rbac
e2e_summary
