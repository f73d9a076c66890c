#!/bin/bash
# A real Kubernetes cluster on one machine, for coil's cluster tests: etcd and
# the control plane (TLS, Node+RBAC authorization, service-account tokens) in
# a control-plane netns holding a bridge, and N nodes (default 3), each a
# netns on that bridge with its own containerd and kubelet. Pods get their
# network from the reference plugins (ptp + host-local) until coil replaces
# them. kube-proxy (iptables mode) runs on every node; CoreDNS does not run.
# Dual-stack: the bridge, the nodes and the Service ranges have IPv4 and IPv6.
#
#   test/realcluster/cluster.sh up [--nodes N]   # build/reuse components, start, wait Ready
#   test/realcluster/cluster.sh status           # versions, processes, node conditions
#   test/realcluster/cluster.sh kubectl ARGS...  # the pinned kubectl as cluster admin
#   test/realcluster/cluster.sh exec CMD...      # CMD in the control-plane netns, KUBECONFIG set
#   test/realcluster/cluster.sh image-import TAR # import an OCI/docker image tar on every node
#   test/realcluster/cluster.sh down             # kill everything by PID, remove all state
#
# State lives in $COIL_REALCLUSTER_DIR (default /var/tmp/coil-realcluster);
# one cluster per state dir. Every netns and cgroup name carries the run's
# random id, so clusters in different state dirs do not collide. Needs root.
set -euo pipefail

RC_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RC_DIR=${COIL_REALCLUSTER_DIR:-/var/tmp/coil-realcluster}

# shellcheck source=../containerd/rig.sh
source "$RC_HERE/../containerd/rig.sh"
source "$RC_HERE/lib/procs.sh"
source "$RC_HERE/lib/pki.sh"
source "$RC_HERE/lib/controlplane.sh"
source "$RC_HERE/lib/node.sh"

# rc_load: the identity of the cluster in RC_DIR (after `up` made it).
rc_load() {
	[[ -r $RC_DIR/id ]] || return 1
	RC_ID=$(cat "$RC_DIR/id")
	RC_NODES=$(cat "$RC_DIR/nodes-count")
	RC_BIN=$(cat "$RC_DIR/bin-dir")
	RC_PREFIX=crc-$RC_ID
	RC_CP_NETNS=$RC_PREFIX-cp
	RC_ETCD_DIR=/dev/shm/coil-realcluster-$RC_ID # etcd on tmpfs: no fsync stalls
}

rc_up() {
	local nodes=3 n start
	while (($#)); do
		case $1 in
		--nodes) nodes=$2 && shift ;;
		*) rc_die "up: unknown option $1" ;;
		esac
		shift
	done
	[[ $(id -u) == 0 ]] || rc_die "needs root"
	[[ ! -e $RC_DIR/id ]] || rc_die "a cluster is already recorded in $RC_DIR (run down first)"
	command -v etcd >/dev/null || rc_die "no etcd (Debian package etcd-server)"
	start=$(date +%s)
	mkdir -p "$RC_DIR/images"
	"$RC_HERE/build-components.sh" >"$RC_DIR/bin-dir"
	head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$RC_DIR/id"
	echo "$nodes" >"$RC_DIR/nodes-count"
	rc_load
	trap 'rc__failed' EXIT
	RIG_DIR=$RC_DIR/images rig__build_image "$RC_DIR/images/sandbox.tar"
	cp_start
	rc_log "control plane up: $("$RC_BIN/kube-apiserver" --version)"
	for ((n = 1; n <= nodes; n++)); do
		node_start "$n"
	done
	for ((n = 1; n <= nodes; n++)); do
		rc_wait 180 "node $(node_name "$n") Ready" node_ready "$(node_name "$n")" || {
			rc_tail "kubelet-n$n"
			rc_tail "containerd-n$n"
			return 1
		}
	done
	trap - EXIT
	rc_log "cluster $RC_ID up in $(($(date +%s) - start)) s"
	rc_status
}

# rc__failed: `up` stopped half-way: show why, then take it all down again
# (COIL_REALCLUSTER_KEEP=1 keeps it for a post-mortem).
rc__failed() {
	local rc=$?
	trap - EXIT
	[[ $rc != 0 ]] || return 0
	rc_log "up failed (exit $rc)"
	if [[ ${COIL_REALCLUSTER_KEEP:-0} == 1 ]]; then
		rc_log "COIL_REALCLUSTER_KEEP=1: leaving it running (logs in $RC_DIR/logs); run down to remove it"
	else
		cp -r "$RC_DIR/logs" "$RC_DIR.failed-logs" 2>/dev/null || true
		rc_down
		rc_log "logs kept in $RC_DIR.failed-logs"
	fi
	exit "$rc"
}

rc_down() {
	local n
	if ! rc_load; then
		rc_log "no cluster recorded in $RC_DIR"
		rm -rf "$RC_DIR"
		return 0
	fi
	node_stop_agents $(seq "$RC_NODES")
	for ((n = 1; n <= RC_NODES; n++)); do
		node_stop "$n"
	done
	cp_stop
	local left
	left=$(ls "$RC_DIR/pids" 2>/dev/null || true)
	[[ -z $left ]] || rc_log "still recorded (not stopped): $left"
	rm -rf "$RC_DIR"
	rc_log "cluster $RC_ID removed"
}

rc_status() {
	local n name
	rc_load || rc_die "no cluster recorded in $RC_DIR"
	echo "cluster $RC_ID, state in $RC_DIR, components in $RC_BIN"
	"$RC_BIN/kube-apiserver" --version
	echo "etcd $(etcd --version | sed -n 's/^etcd Version: //p')"
	for name in $(ls "$RC_DIR/pids"); do
		if proc_alive "$name"; then
			echo "  $name: pid $(proc_pid "$name") running"
		else
			echo "  $name: NOT running"
		fi
	done
	for ((n = 1; n <= RC_NODES; n++)); do
		name=$(node_name "$n")
		echo "  node $name: Ready=$(rc_kubectl get node "$name" \
			-o jsonpath='{.status.conditions[?(@.type=="Ready")].status} ({.status.conditions[?(@.type=="Ready")].message})' \
			2>/dev/null || echo unregistered)"
	done
	rc_kubectl get nodes -o wide
}

# rc_image_import TAR: an image tar into every node's containerd (k8s.io
# namespace, where kubelet looks).
rc_image_import() {
	local tar=$1 n
	[[ -r $tar ]] || rc_die "cannot read $tar"
	rc_load || rc_die "no cluster recorded in $RC_DIR"
	for ((n = 1; n <= RC_NODES; n++)); do
		node__rig_vars "$n"
		ctr --address "$RIG_SOCKET" --namespace k8s.io images import "$tar" >/dev/null
	done
}

main() {
	local cmd=${1:-}
	shift || true
	case $cmd in
	up) rc_up "$@" ;;
	down) rc_down ;;
	status) rc_status ;;
	kubectl)
		rc_load || rc_die "no cluster recorded in $RC_DIR"
		rc_kubectl "$@"
		;;
	exec)
		rc_load || rc_die "no cluster recorded in $RC_DIR"
		KUBECONFIG=$RC_DIR/kubeconfig/admin.kubeconfig PATH=$RC_BIN:$PATH cp_exec "$@"
		;;
	image-import) rc_image_import "$@" ;;
	*)
		sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
		exit 2
		;;
	esac
}

main "$@"
