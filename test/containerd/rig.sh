#!/bin/bash
# A private containerd (Debian's 1.6 + runc) inside a throw-away "node" network
# namespace, configured to call the CNI plugin(s) under test through its CRI
# plugin exactly as kubelet's runtime would.
#
# As a library (the caller gets `set -euo pipefail` too):
#   source test/containerd/rig.sh
#   rig_start [--conflist FILE] --plugin PATH [--plugin NAME=PATH ...] \
#             [--before CMD] [--daemon CMD] [--wait-for PATH] [--after CMD]
#   rig_cri run pod-a default        # test/containerd/cri.py against the rig
#   rig_stop                         # also run by the EXIT trap rig_start sets
#
# As a command:
#   test/containerd/rig.sh run --conflist FILE --plugin PATH ... -- CMD [ARGS...]
# starts the rig, runs CMD with the RIG_* variables exported, and cleans up.
#
# Options of rig_start:
#   --conflist FILE   CNI network config list; every "@RIG_DIR@" in it is replaced
#                     by the rig's temp dir (put host-local's dataDir there). Without
#                     it (and without --plugin) the CNI dirs start empty but for
#                     `loopback`, for a test whose installer fills them.
#   --plugin [NAME=]PATH
#                     a plugin binary, linked into the CNI bin dir as NAME
#                     (default: basename of PATH, kept for multi-call binaries).
#                     `loopback` is added from /usr/lib/cni unless given.
#   --before CMD      bash command run in the node netns before containerd starts
#                     (must return; see --daemon for long-running processes).
#   --daemon CMD      long-running command started in the background in the node
#                     netns before containerd (after --before); it is killed by PID
#                     at cleanup, after containerd and before --after.
#   --wait-for PATH   after --daemon: wait until PATH exists (e.g. its socket);
#                     "@RIG_DIR@" in PATH is replaced as in the conflist.
#   --after CMD       bash command run in the node netns at cleanup, after
#                     containerd and the daemon are stopped.
# Hooks and the daemon see RIG_DIR, RIG_NODE, RIG_NODE_NETNS, RIG_SOCKET.
#
# Exported after rig_start:
#   RIG_DIR RIG_NODE RIG_NODE_NETNS RIG_SOCKET RIG_CNI_BIN RIG_CNI_CONF
#   RIG_CONTAINERD_PID RIG_DAEMON_PID
#   RIG_CGROUP_PARENT (cri.py's default parent cgroup for the sandboxes)
#
# Cleanup removes every sandbox through CRI (so the plugin gets its DELs), kills
# containerd and the daemon by PID, force-removes what a crashed run left (runc
# containers, shims, mounts under RIG_DIR, netns of our sandboxes), deletes the
# node netns and RIG_DIR, and fails if anything of ours was left behind.
set -euo pipefail

RIG_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RIG_PYTHON=/usr/bin/python3 # Debian's, which has python3-grpcio
RIG_IMAGE=localhost/coil-test/sandbox:1
RIG_CNI_DEFAULT=/usr/lib/cni

rig_log() {
	printf 'rig: %s\n' "$*" >&2
}

rig_die() {
	rig_log "error: $*"
	exit 1
}

# rig_cri ARGS...: cri.py against the rig's containerd.
rig_cri() {
	"$RIG_PYTHON" "$RIG_HERE/cri.py" --socket "$RIG_SOCKET" "$@"
}

# rig_node CMD...: run a command inside the node netns.
rig_node() {
	nsenter --net="$RIG_NODE_NETNS" -- "$@"
}

# ---- the sandbox image -------------------------------------------------------

# rig__blob DIR FILE: store FILE as a content-addressed blob, print "sha256:HEX SIZE".
rig__blob() {
	local dir=$1 file=$2 hex size
	hex=$(sha256sum "$file" | cut -d' ' -f1)
	size=$(stat -c %s "$file")
	mv "$file" "$dir/blobs/sha256/$hex"
	printf 'sha256:%s %s\n' "$hex" "$size"
}

# rig__build_image OUT_TAR: an OCI image layout tar of a static busybox that
# sleeps forever, the sandbox ("pause") image; built locally, no registry.
rig__build_image() {
	local out=$1 work arch layer config manifest
	work=$(mktemp -d "$RIG_DIR/image.XXXXXX")
	arch=$(dpkg --print-architecture)
	mkdir -p "$work/rootfs/bin" "$work/oci/blobs/sha256"
	cp /bin/busybox "$work/rootfs/bin/busybox"
	ln -s busybox "$work/rootfs/bin/sh"
	ln -s busybox "$work/rootfs/bin/sleep"
	tar -C "$work/rootfs" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
		-cf "$work/layer.tar" .
	read -r layer layer_size < <(rig__blob "$work/oci" "$work/layer.tar")
	printf '{"architecture":"%s","os":"linux","config":{"Entrypoint":["/bin/sleep"],"Cmd":["2147483647"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["%s"]}}' \
		"$arch" "$layer" >"$work/config.json"
	read -r config config_size < <(rig__blob "$work/oci" "$work/config.json")
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%s}]}' \
		"$config" "$config_size" "$layer" "$layer_size" >"$work/manifest.json"
	read -r manifest manifest_size < <(rig__blob "$work/oci" "$work/manifest.json")
	printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"platform":{"architecture":"%s","os":"linux"},"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"1"}}]}' \
		"$manifest" "$manifest_size" "$arch" "$RIG_IMAGE" >"$work/oci/index.json"
	printf '{"imageLayoutVersion":"1.0.0"}' >"$work/oci/oci-layout"
	tar -C "$work/oci" --sort=name --owner=0 --group=0 --numeric-owner -cf "$out" .
	rm -rf "$work"
}

# ---- containerd --------------------------------------------------------------

rig__write_config() {
	cat >"$RIG_DIR/containerd.toml" <<EOF
version = 2
root = "$RIG_DIR/root"
state = "$RIG_DIR/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "$RIG_SOCKET"

[plugins."io.containerd.internal.v1.opt"]
  path = "$RIG_DIR/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$RIG_IMAGE"
  restrict_oom_score_adj = true
  disable_apparmor = true
  enable_selinux = false

[plugins."io.containerd.grpc.v1.cri".containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  Root = "$RIG_DIR/runc"

[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "$RIG_CNI_BIN"
  conf_dir = "$RIG_CNI_CONF"
  max_conf_num = 1
EOF
}

rig__wait_containerd() {
	for _ in $(seq 100); do
		kill -0 "$RIG_CONTAINERD_PID" 2>/dev/null || return 1
		if [[ -S $RIG_SOCKET ]] && rig_cri --timeout 2 version >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

rig__start_containerd() {
	rig__write_config
	nsenter --net="$RIG_NODE_NETNS" -- containerd --config "$RIG_DIR/containerd.toml" \
		>"$RIG_DIR/containerd.log" 2>&1 &
	RIG_CONTAINERD_PID=$! # nsenter execs containerd: same PID
	rig__wait_containerd || rig_die "containerd did not come up (see log above)"
	rig__build_image "$RIG_DIR/sandbox-image.tar"
	ctr --address "$RIG_SOCKET" --namespace k8s.io images import "$RIG_DIR/sandbox-image.tar" \
		>/dev/null || rig_die "ctr images import failed"
}

# ---- node netns, plugins, hooks ----------------------------------------------

rig__setup_cni() {
	local conflist=$1 spec name path
	shift
	mkdir -p "$RIG_CNI_BIN" "$RIG_CNI_CONF"
	for spec in "$@"; do
		if [[ $spec == *=* ]]; then
			name=${spec%%=*} path=${spec#*=}
		else
			name=$(basename "$spec") path=$spec
		fi
		[[ -x $path ]] || rig_die "plugin $path is not an executable"
		ln -s "$(realpath -s "$path")" "$RIG_CNI_BIN/$name"
	done
	if [[ ! -e $RIG_CNI_BIN/loopback ]]; then
		ln -s "$RIG_CNI_DEFAULT/loopback" "$RIG_CNI_BIN/loopback"
	fi
	[[ -n $conflist ]] || return 0
	[[ -r $conflist ]] || rig_die "conflist $conflist is not readable"
	sed "s|@RIG_DIR@|$RIG_DIR|g" "$conflist" >"$RIG_CNI_CONF/10-test.conflist"
}

rig__run_hook() {
	local what=$1 cmd=$2
	[[ -n $cmd ]] || return 0
	if ! rig_node bash -c "$cmd" >>"$RIG_DIR/hooks.log" 2>&1; then
		rig_log "$what hook failed: $cmd"
		return 1
	fi
}

rig__start_daemon() {
	local cmd=$1 wait_for=${2//@RIG_DIR@/$RIG_DIR}
	[[ -n $cmd ]] || return 0
	# exec (and nsenter called directly, not through the rig_node function, which
	# would fork a subshell): the PID we record is the daemon itself.
	nsenter --net="$RIG_NODE_NETNS" -- bash -c "exec $cmd" >"$RIG_DIR/daemon.log" 2>&1 &
	RIG_DAEMON_PID=$!
	[[ -n $wait_for ]] || return 0
	for _ in $(seq 100); do
		[[ -e $wait_for ]] && return 0
		kill -0 "$RIG_DAEMON_PID" 2>/dev/null || rig_die "daemon exited: $cmd"
		sleep 0.1
	done
	rig_die "daemon did not create $wait_for within 10 s"
}

rig__list_cni_netns() {
	find /var/run/netns -maxdepth 1 -name 'cni-*' 2>/dev/null | sort || true
}

# rig_start OPTIONS: see the header.
rig_start() {
	local conflist="" before="" after="" daemon="" wait_for=""
	local -a plugins=()
	while (($#)); do
		case $1 in
		--conflist) conflist=$2 ;;
		--plugin) plugins+=("$2") ;;
		--before) before=$2 ;;
		--after) after=$2 ;;
		--daemon) daemon=$2 ;;
		--wait-for) wait_for=$2 ;;
		*) rig_die "rig_start: unknown option $1" ;;
		esac
		shift 2
	done
	[[ -z $conflist || ${#plugins[@]} -gt 0 ]] || rig_die "rig_start: --conflist needs a --plugin"

	RIG_DIR=$(mktemp -d /tmp/coil-rig.XXXXXX)
	RIG_NODE=rig-node-${RIG_DIR##*.}
	RIG_NODE_NETNS=/var/run/netns/$RIG_NODE
	RIG_SOCKET=$RIG_DIR/containerd.sock
	RIG_CNI_BIN=$RIG_DIR/cni-bin
	RIG_CNI_CONF=$RIG_DIR/cni-conf
	RIG_CGROUP_PARENT=/coil-rig-${RIG_DIR##*.} # cri.py puts our sandboxes there
	RIG_CONTAINERD_PID="" RIG_DAEMON_PID=""
	RIG__AFTER=$after
	RIG__RUN_DIR_EXISTED=false
	[[ -e /run/containerd ]] && RIG__RUN_DIR_EXISTED=true
	export RIG_DIR RIG_NODE RIG_NODE_NETNS RIG_SOCKET RIG_CNI_BIN RIG_CNI_CONF RIG_CGROUP_PARENT
	export RIG_CONTAINERD_PID RIG_DAEMON_PID
	rig__list_cni_netns >"$RIG_DIR/netns-before"
	: >"$RIG_DIR/netns-ours"
	trap 'rig__on_exit' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	ip netns add "$RIG_NODE"
	ip -n "$RIG_NODE" link set lo up
	rig__setup_cni "$conflist" ${plugins[@]+"${plugins[@]}"}
	rig__run_hook before "$before" || rig_die "before hook failed"
	rig__start_daemon "$daemon" "$wait_for"
	rig__start_containerd
	export RIG_CONTAINERD_PID RIG_DAEMON_PID
	rig_log "containerd $RIG_CONTAINERD_PID up in netns $RIG_NODE, dir $RIG_DIR"
}

# ---- cleanup -----------------------------------------------------------------

# rig__remove_sandboxes: stop + remove every sandbox through CRI, so the plugin
# gets its DELs; remember their netns in case containerd fails to delete them.
rig__remove_sandboxes() {
	kill -0 "$RIG_CONTAINERD_PID" 2>/dev/null || return 0
	[[ -S $RIG_SOCKET ]] || return 0
	rig_cri --timeout 30 rmall >>"$RIG_DIR/netns-ours" || rig_log "removing sandboxes failed"
}

rig__kill_pid() {
	local pid=$1
	[[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# rig__our_pids: processes whose command line names RIG_DIR (shims carry our
# socket path, a daemon its state dir); read without forking, so no helper of
# ours shows up in the list.
rig__our_pids() {
	local f pid
	local -a argv
	for f in /proc/[0-9]*/cmdline; do
		pid=${f#/proc/} pid=${pid%/cmdline}
		[[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
		mapfile -d '' argv <"$f" 2>/dev/null || continue
		[[ " ${argv[*]} " == *"$RIG_DIR/"* ]] && echo "$pid"
	done
	return 0
}

rig__our_mounts() {
	awk -v d="$RIG_DIR/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r
}

# rig__force_cleanup: remove what a crashed run may leave (runc containers,
# shims, mounts under RIG_DIR); returns non-zero if there was anything.
rig__force_cleanup() {
	local id pid mnt leaks=0
	if [[ -d $RIG_DIR/runc/k8s.io ]]; then
		for id in $(runc --root "$RIG_DIR/runc/k8s.io" list -q 2>/dev/null); do
			rig_log "leftover runc container $id: removing"
			runc --root "$RIG_DIR/runc/k8s.io" delete --force "$id" || true
			leaks=1
		done
	fi
	# Shims of removed sandboxes exit on their own, give them a moment.
	for _ in $(seq 30); do
		[[ -z $(rig__our_pids) ]] && break
		sleep 0.1
	done
	for pid in $(rig__our_pids); do
		rig_log "leftover process $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)): killing"
		kill -KILL "$pid" 2>/dev/null || true
		leaks=1
	done
	# sort -r: deepest first, so nested mounts come off before their parents.
	for mnt in $(rig__our_mounts); do
		rig_log "leftover mount $mnt: unmounting"
		umount -l "$mnt" || true
		leaks=1
	done
	return "$leaks"
}

# rig__check_netns: delete netns of our sandboxes that are still there; report
# (but leave alone, they may be someone else's) other cni-* netns that appeared.
rig__check_netns() {
	local ns leaks=0
	while read -r ns; do
		[[ -n $ns && -e $ns ]] || continue
		rig_log "leftover sandbox netns $ns: deleting"
		ip netns delete "$(basename "$ns")" || true
		leaks=1
	done <"$RIG_DIR/netns-ours"
	while read -r ns; do
		rig_log "warning: new netns $ns appeared during the run (not known to be ours)"
	done < <(comm -13 "$RIG_DIR/netns-before" <(rig__list_cni_netns))
	return "$leaks"
}

# rig__remove_host_dirs: containerd and runc make a few outside RIG_DIR: our
# parent cgroup in each hierarchy, and the shims' socket dir /run/containerd/s
# (hard-coded in containerd 1.6) if it was not there before us.
rig__remove_host_dirs() {
	local dir leaks=0
	for dir in /sys/fs/cgroup/*"$RIG_CGROUP_PARENT"; do
		[[ -d $dir ]] || continue
		# Children first: a sandbox cgroup runc failed to delete is a leak.
		if find "$dir" -mindepth 1 -type d | grep -q .; then
			rig_log "leftover cgroups under $dir"
			find "$dir" -mindepth 1 -depth -type d -exec rmdir {} + || true
			leaks=1
		fi
		rmdir "$dir" || leaks=1
	done
	if [[ $RIG__RUN_DIR_EXISTED == false ]]; then
		rmdir /run/containerd/s /run/containerd 2>/dev/null || true
	fi
	return "$leaks"
}

# rig_stop: idempotent; returns non-zero if something of ours had leaked.
rig_stop() {
	local leaks=0
	[[ -n ${RIG_DIR:-} && -d $RIG_DIR ]] || return 0
	rig__remove_sandboxes
	rig__kill_pid "$RIG_CONTAINERD_PID"
	rig__kill_pid "$RIG_DAEMON_PID"
	rig__run_hook after "$RIG__AFTER" || leaks=1
	rig__force_cleanup || leaks=1
	rig__check_netns || leaks=1
	rig__remove_host_dirs || leaks=1
	ip netns delete "$RIG_NODE" 2>/dev/null || true
	rm -rf "$RIG_DIR"
	RIG_DIR=""
	return "$leaks"
}

rig__dump_logs() {
	local f
	for f in containerd.log hooks.log daemon.log; do
		[[ -s $RIG_DIR/$f ]] || continue
		rig_log "---- last lines of $f"
		tail -n 30 "$RIG_DIR/$f" >&2
	done
}

rig__on_exit() {
	local rc=$?
	trap - EXIT INT TERM
	if [[ $rc -ne 0 && -n ${RIG_DIR:-} && -d $RIG_DIR ]]; then
		rig__dump_logs
	fi
	if ! rig_stop; then
		rig_log "cleanup found leftovers of this run"
		[[ $rc -ne 0 ]] || rc=1
	fi
	exit "$rc"
}

rig__main() {
	local -a opts=()
	[[ ${1:-} == run ]] || {
		sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
		exit 2
	}
	shift
	while (($#)) && [[ $1 != -- ]]; do
		opts+=("$1")
		shift
	done
	[[ ${1:-} == -- && $# -ge 2 ]] || rig_die "usage: rig.sh run OPTIONS -- CMD [ARGS...]"
	shift
	rig_start "${opts[@]}"
	"$@"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	rig__main "$@"
fi
