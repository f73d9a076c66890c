# The nodes of the test cluster. A node is a netns joined to the control
# plane's bridge, with its own containerd (Debian's) and its own kubelet, both
# in a mount namespace of the node's own. Sourced by cluster.sh, after
# test/containerd/rig.sh, whose containerd configuration and locally built
# sandbox image (busybox that sleeps) every node reuses.
#
# Why a mount namespace per node: kubelet insists on six kernel tunables that
# are global to the machine (vm.overcommit_memory=1, kernel.panic=10,
# kernel.panic_on_oops=1, ...) and either rewrites them or refuses to start.
# The test must not change the machine it shares, so inside the node's mount
# namespace those six /proc/sys files are covered by read-only files holding
# the values kubelet wants: it finds nothing to change. containerd lives in the
# same mount namespace because it must see the volumes kubelet mounts for pods.

RC_POD_CIDR_PREFIX=10.244 # node N: 10.244.N.0/24 from host-local
RC_CNI_DIR=/usr/lib/cni

# Values kubelet requires of global kernel tunables (its "protect kernel
# defaults" list).
RC_KUBELET_SYSCTLS=(vm.overcommit_memory=1 vm.panic_on_oom=0 kernel.panic=10
	kernel.panic_on_oops=1 kernel.keys.root_maxkeys=1000000 kernel.keys.root_maxbytes=25000000)

node_name() { echo "node-$1"; }
node_ip() { echo "$RC_NET_PREFIX.$((10 + $1))"; }
node_ip6() { echo "$RC_NET6_PREFIX:$((10 + $1))"; }
node_netns() { echo "$RC_PREFIX-n$1"; }
node_dir() { echo "$RC_DIR/nodes/$(node_name "$1")"; }
node_cgroup() { echo "/$RC_PREFIX-n$1"; }

# node__rig_vars N: the variables rig.sh's containerd helpers read.
node__rig_vars() {
	RIG_DIR=$(node_dir "$1")/containerd
	RIG_SOCKET=$RIG_DIR/containerd.sock
	RIG_CNI_BIN=$(node_dir "$1")/cni-bin
	RIG_CNI_CONF=$(node_dir "$1")/cni-conf
	RIG_CGROUP_PARENT=$(node_cgroup "$1")
}

node__network() {
	local n=$1 ns
	ns=$(node_netns "$n")
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ip -n "$RC_CP_NETNS" link add "veth-n$n" type veth peer name eth0 netns "$ns"
	ip -n "$RC_CP_NETNS" link set "veth-n$n" master br0 up
	ip -n "$ns" addr add "$(node_ip "$n")/24" dev eth0
	ip -n "$ns" addr add "$(node_ip6 "$n")/64" dev eth0 nodad
	ip -n "$ns" link set eth0 up
	ip -n "$ns" route add default via "$RC_CP_IP"
	ip -n "$ns" -6 route add default via "$RC_CP_IP6"
	nsenter --net="/run/netns/$ns" -- sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}

# node__mount_ns N: NODE_DIR/mntns, with kubelet's kernel tunables faked.
node__mount_ns() {
	local dir mnt kv
	dir=$(node_dir "$1")
	mnt=$dir/mntns
	mkdir -p "$dir/sysctl"
	touch "$mnt"
	# --propagation unchanged: a copy of the machine's mounts, nothing more.
	unshare --mount="$mnt" --propagation unchanged true
	for kv in "${RC_KUBELET_SYSCTLS[@]}"; do
		echo "${kv#*=}" >"$dir/sysctl/${kv%%=*}"
		nsenter --mount="$mnt" -- mount --bind -o ro "$dir/sysctl/${kv%%=*}" \
			"/proc/sys/$(tr . / <<<"${kv%%=*}")"
	done
}

# node__host_paths N: the host paths a DaemonSet of a CNI mounts (hostPath),
# each node's own inside its mount namespace, as on separate machines:
#  - /opt/cni/bin and /etc/cni/net.d are the node's CNI dirs (the ones its
#    containerd reads), so coil-installer replaces this node's plugin config,
#    never the machine's. The machine has no /opt/cni: /opt is covered by a
#    directory of the node's holding only cni/bin (nothing on a node needs the
#    machine's /opt).
#  - /run is a directory of the node's (coild's socket /run/coild.sock would
#    otherwise be one for all nodes), made a shared mount because containerd
#    accepts a HostToContainer volume (coild's /run) only from a shared or
#    slave mount; /run/netns inside it stays the machine's shared /run/netns,
#    so pod netns made on a node are seen (and removed) from outside too.
node__host_paths() {
	local dir mnt
	dir=$(node_dir "$1")
	mnt=$dir/mntns
	node__rig_vars "$1"
	mkdir -p "$dir/opt/cni/bin" "$dir/run/netns" "$RIG_CNI_BIN" "$RIG_CNI_CONF"
	[[ -d /etc/cni/net.d ]] || mkdir -p /etc/cni/net.d
	nsenter --mount="$mnt" -- mount --bind "$dir/opt" /opt
	nsenter --mount="$mnt" -- mount --bind "$RIG_CNI_BIN" /opt/cni/bin
	nsenter --mount="$mnt" -- mount --bind "$RIG_CNI_CONF" /etc/cni/net.d
	nsenter --mount="$mnt" -- mount --rbind /run/netns "$dir/run/netns"
	nsenter --mount="$mnt" -- mount --rbind "$dir/run" /run
	nsenter --mount="$mnt" -- mount --make-shared /run
}

# node__cgroups N: the node's cgroup root in every hierarchy (kubelet checks
# it exists and puts kubepods/ under it).
node__cgroups() {
	local cg h
	cg=$(node_cgroup "$1")
	for h in /sys/fs/cgroup/*/; do
		[[ -e $h/cgroup.procs ]] || continue
		mkdir -p "$h$cg"
		if [[ -e $h/cpuset.cpus ]]; then
			# A new cpuset starts empty; its tasks could run nowhere.
			cat "$h/cpuset.cpus" >"$h$cg/cpuset.cpus"
			cat "$h/cpuset.mems" >"$h$cg/cpuset.mems"
		fi
	done
}

node__remove_cgroups() {
	local cg h
	cg=$(node_cgroup "$1")
	for h in /sys/fs/cgroup/*/; do
		[[ -d $h$cg ]] || continue
		find "$h$cg" -depth -type d -exec rmdir {} + 2>/dev/null ||
			rc_log "cgroup $h$cg: not all removed"
	done
}

# node__cni N: the reference plugins (ptp + host-local), one /24 per node.
node__cni() {
	local n=$1 p
	node__rig_vars "$n"
	mkdir -p "$RIG_CNI_BIN" "$RIG_CNI_CONF"
	for p in ptp host-local loopback portmap; do
		ln -sf "$RC_CNI_DIR/$p" "$RIG_CNI_BIN/$p"
	done
	cat >"$RIG_CNI_CONF/10-realcluster-ptp.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "realcluster-ptp",
  "plugins": [
    {
      "type": "ptp",
      "ipMasq": false,
      "ipam": {
        "type": "host-local",
        "dataDir": "$(node_dir "$n")/host-local",
        "ranges": [[{"subnet": "$RC_POD_CIDR_PREFIX.$n.0/24"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    }
  ]
}
EOF
}

node__containerd() {
	local n=$1
	node__rig_vars "$n"
	mkdir -p "$RIG_DIR"
	rig__write_config
	proc_spawn "containerd-n$n" "$(node_netns "$n")" "$(node_dir "$n")/mntns" \
		containerd --config "$RIG_DIR/containerd.toml"
	rc_wait 30 "containerd of node $n" ctr --address "$RIG_SOCKET" version || {
		rc_tail "containerd-n$n"
		return 1
	}
	ctr --address "$RIG_SOCKET" --namespace k8s.io images import "$RC_DIR/images/sandbox.tar" \
		>/dev/null
}

node__kubelet_config() {
	local n=$1 dir sock
	dir=$(node_dir "$n")
	node__rig_vars "$n"
	: >"$dir/resolv.conf" # no DNS here; pods with dnsPolicy Default get none
	cat >"$dir/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $(node_ip "$n")
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $RC_DIR/pki/ca.crt}
authorization: {mode: Webhook}
containerRuntimeEndpoint: unix://$RIG_SOCKET
cgroupDriver: cgroupfs
cgroupRoot: $(node_cgroup "$n")
failCgroupV1: false
failSwapOn: false
oomScoreAdj: 0
podLogsDir: $dir/pod-logs
resolvConf: $dir/resolv.conf
clusterDomain: cluster.local
maxPods: 150
serializeImagePulls: false
rotateCertificates: false
# Three nodes share one disk with everything else on the machine: evict only
# when it is really full.
evictionHard: {memory.available: 100Mi, nodefs.available: 2%, imagefs.available: 2%, nodefs.inodesFree: 2%}
imageGCHighThresholdPercent: 98
imageGCLowThresholdPercent: 95
EOF
}

node__kubelet() {
	local n=$1 dir name pki=$RC_DIR/pki
	dir=$(node_dir "$n")
	name=$(node_name "$n")
	# The Node authorizer knows a kubelet by this identity.
	pki_cert "$pki" "kubelet-$name" clientAuth "system:node:$name" system:nodes
	pki_kubeconfig "$dir/kubelet.kubeconfig" "https://$RC_CP_IP:$RC_API_PORT" "$pki/ca.crt" \
		"$pki/kubelet-$name.crt" "$pki/kubelet-$name.key"
	node__kubelet_config "$n"
	mkdir -p "$dir/kubelet" "$dir/pod-logs"
	proc_spawn "kubelet-n$n" "$(node_netns "$n")" "$dir/mntns" "$RC_BIN/kubelet" \
		--config="$dir/kubelet.yaml" --kubeconfig="$dir/kubelet.kubeconfig" \
		--root-dir="$dir/kubelet" --cert-dir="$dir/kubelet/pki" \
		--hostname-override="$name" --node-ip="$(node_ip "$n"),$(node_ip6 "$n")" --v=1
}

# node__kube_proxy N: the Service proxy of the node (iptables mode, in the
# node netns), so that pods and host-network pods reach Services, the
# API server's "kubernetes" Service above all.
node__kube_proxy() {
	local n=$1 dir name pki=$RC_DIR/pki
	dir=$(node_dir "$n")
	name=$(node_name "$n")
	[[ -e $pki/kube-proxy.crt ]] || pki_cert "$pki" kube-proxy clientAuth system:kube-proxy
	pki_kubeconfig "$dir/kube-proxy.kubeconfig" "https://$RC_CP_IP:$RC_API_PORT" "$pki/ca.crt" \
		"$pki/kube-proxy.crt" "$pki/kube-proxy.key"
	# conntrack: zeros leave the machine-wide table size and the timeouts alone.
	# masqueradeAll: the control-plane netns has no routes back to the pods.
	cat >"$dir/kube-proxy.yaml" <<EOF2
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $dir/kube-proxy.kubeconfig}
hostnameOverride: $name
bindAddress: $(node_ip "$n")
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
mode: iptables
iptables: {masqueradeAll: true, localhostNodePorts: false}
conntrack: {maxPerCore: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
oomScoreAdj: 0
EOF2
	proc_spawn "kube-proxy-n$n" "$(node_netns "$n")" "" "$RC_BIN/kube-proxy" \
		--config="$dir/kube-proxy.yaml" --v=1
}

# node_start N: everything a node needs, kubelet last.
node_start() {
	local n=$1
	mkdir -p "$(node_dir "$n")"
	node__network "$n"
	node__mount_ns "$n"
	node__cgroups "$n"
	node__cni "$n"
	node__host_paths "$n"
	node__containerd "$n"
	node__kubelet "$n"
	node__kube_proxy "$n"
}

# node_stop_agents N...: kubelet and kube-proxy of the nodes, all at once.
node_stop_agents() {
	local n
	local -a names=()
	for n in "$@"; do
		names+=("kube-proxy-n$n" "kubelet-n$n")
	done
	proc_stop "${names[@]}"
}

# node_stop N: after node_stop_agents, every pod sandbox through CRI (so the
# CNI plugin gets its DELs and containerd removes the pod netns), then
# containerd and whatever it left; then the namespaces, cgroups and files.
node_stop() {
	local n=$1 dir ns
	dir=$(node_dir "$n")
	ns=$(node_netns "$n")
	node__rig_vars "$n"
	if proc_alive "containerd-n$n"; then
		rig_cri --timeout 30 rmall >"$dir/sandbox-netns" 2>>"$RC_DIR/logs/teardown.log" ||
			rc_log "node $n: removing sandboxes through CRI failed"
	fi
	proc_stop "containerd-n$n"
	if [[ -d $RIG_DIR ]]; then
		rig__force_cleanup 2>>"$RC_DIR/logs/teardown.log" ||
			rc_log "node $n: killed leftovers of containerd (see logs/teardown.log)"
	fi
	if [[ -s $dir/sandbox-netns ]]; then
		while read -r path; do
			[[ -e $path ]] && ip netns delete "$(basename "$path")" 2>/dev/null
		done <"$dir/sandbox-netns"
	fi
	[[ -e $dir/mntns ]] && umount "$dir/mntns" 2>/dev/null
	node__remove_cgroups "$n"
	ip netns delete "$ns" 2>/dev/null || true
	return 0
}

# node_ready NAME: the node's Ready condition is True.
node_ready() {
	[[ $(rc_kubectl get node "$1" \
		-o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null) == True ]]
}
