# The control plane of the test cluster: etcd, kube-apiserver,
# kube-controller-manager and kube-scheduler, all in the control-plane netns
# (which also holds the bridge that joins the nodes). Inside it they talk over
# loopback; the nodes reach the API server at RC_CP_IP. Nothing listens in the
# machine's own netns, so fixed ports never collide with anything else.
# Sourced by cluster.sh.

# The cluster is dual-stack: the node network, the nodes' addresses and the Service ranges
# have an IPv4 and an IPv6 part (IPv4 first: the primary family, as on most clusters).
RC_CP_IP=10.250.0.1
RC_NET_PREFIX=10.250.0
RC_CP_IP6=fd00:10:250::1
RC_NET6_PREFIX=fd00:10:250:
RC_SERVICE_CIDR=10.96.0.0/16,fd00:10:96::/112
RC_SERVICE_IP=10.96.0.1 # the "kubernetes" Service: first address of the (primary) range
RC_API_PORT=6443

# cp_network: the control-plane netns with the bridge br0 at RC_CP_IP and RC_CP_IP6 (nodad:
# usable at once, nothing else on the bridge claims it).
cp_network() {
	ip netns add "$RC_CP_NETNS"
	ip -n "$RC_CP_NETNS" link set lo up
	ip -n "$RC_CP_NETNS" link add br0 type bridge
	ip -n "$RC_CP_NETNS" addr add "$RC_CP_IP/24" dev br0
	ip -n "$RC_CP_NETNS" addr add "$RC_CP_IP6/64" dev br0 nodad
	ip -n "$RC_CP_NETNS" link set br0 up
}

# cp_pki: the CA, the API server's serving certificate, every control-plane
# identity and the service-account key pair, plus their kubeconfigs.
cp_pki() {
	local pki=$RC_DIR/pki kc=$RC_DIR/kubeconfig local_api="https://127.0.0.1:$RC_API_PORT"
	mkdir -p "$pki" "$kc"
	pki_ca "$pki"
	pki_cert "$pki" apiserver serverAuth kube-apiserver "" \
		"DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:127.0.0.1,IP:$RC_CP_IP,IP:$RC_CP_IP6,IP:$RC_SERVICE_IP"
	# What the API server presents to kubelets (logs, exec, port-forward).
	pki_cert "$pki" apiserver-kubelet-client clientAuth kube-apiserver-kubelet-client system:masters
	pki_cert "$pki" admin clientAuth coil-realcluster-admin system:masters
	pki_cert "$pki" controller-manager clientAuth system:kube-controller-manager
	pki_cert "$pki" scheduler clientAuth system:kube-scheduler
	pki_sa_keys "$pki"
	local who
	for who in admin controller-manager scheduler; do
		pki_kubeconfig "$kc/$who.kubeconfig" "$local_api" "$pki/ca.crt" "$pki/$who.crt" "$pki/$who.key"
	done
}

cp__etcd() {
	mkdir -p "$RC_ETCD_DIR"
	proc_spawn etcd "$RC_CP_NETNS" "" etcd --name default --data-dir "$RC_ETCD_DIR" \
		--listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
		--listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
		--initial-cluster default=http://127.0.0.1:2380 --logger=zap --log-level=warn
	rc_wait 30 etcd cp_exec curl -sf http://127.0.0.1:2379/health || {
		rc_tail etcd
		return 1
	}
}

cp__apiserver() {
	local pki=$RC_DIR/pki
	# --kubelet-preferred-address-types: node names resolve nowhere here.
	# --enable-aggregator-routing: the API server calls webhooks and aggregated
	# APIs at their endpoints' addresses, not the Service's ClusterIP, so the
	# cluster needs no kube-proxy for them.
	proc_spawn kube-apiserver "$RC_CP_NETNS" "" "$RC_BIN/kube-apiserver" \
		--etcd-servers=http://127.0.0.1:2379 \
		--bind-address=0.0.0.0 --secure-port="$RC_API_PORT" --advertise-address="$RC_CP_IP" \
		--tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
		--client-ca-file="$pki/ca.crt" \
		--kubelet-client-certificate="$pki/apiserver-kubelet-client.crt" \
		--kubelet-client-key="$pki/apiserver-kubelet-client.key" \
		--kubelet-preferred-address-types=InternalIP \
		--authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
		--service-account-issuer=https://kubernetes.default.svc.cluster.local \
		--service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
		--service-cluster-ip-range="$RC_SERVICE_CIDR" --allow-privileged=true \
		--enable-aggregator-routing=true --profiling=false --v=1
	rc_wait 120 "kube-apiserver /readyz" rc_kubectl get --raw=/readyz || {
		rc_tail kube-apiserver
		return 1
	}
}

cp__controllers() {
	local pki=$RC_DIR/pki kc=$RC_DIR/kubeconfig
	proc_spawn kube-controller-manager "$RC_CP_NETNS" "" "$RC_BIN/kube-controller-manager" \
		--kubeconfig="$kc/controller-manager.kubeconfig" \
		--authentication-kubeconfig="$kc/controller-manager.kubeconfig" \
		--authorization-kubeconfig="$kc/controller-manager.kubeconfig" \
		--bind-address=127.0.0.1 --secure-port=10257 --leader-elect=false \
		--use-service-account-credentials=true \
		--service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
		--cluster-signing-cert-file="$pki/ca.crt" --cluster-signing-key-file="$pki/ca.key" \
		--service-cluster-ip-range="$RC_SERVICE_CIDR" --profiling=false --v=1
	proc_spawn kube-scheduler "$RC_CP_NETNS" "" "$RC_BIN/kube-scheduler" \
		--kubeconfig="$kc/scheduler.kubeconfig" \
		--authentication-kubeconfig="$kc/scheduler.kubeconfig" \
		--authorization-kubeconfig="$kc/scheduler.kubeconfig" \
		--bind-address=127.0.0.1 --secure-port=10259 --leader-elect=false --profiling=false --v=1
	rc_wait 60 kube-controller-manager cp_exec curl -skf https://127.0.0.1:10257/healthz || {
		rc_tail kube-controller-manager
		return 1
	}
	rc_wait 60 kube-scheduler cp_exec curl -skf https://127.0.0.1:10259/healthz || {
		rc_tail kube-scheduler
		return 1
	}
}

# cp_start: network, certificates, then each component once the one it needs
# answers.
cp_start() {
	cp_network
	cp_pki
	cp__etcd
	cp__apiserver
	cp__controllers
}

cp_stop() {
	proc_stop kube-scheduler kube-controller-manager kube-apiserver
	proc_stop etcd
	ip netns delete "$RC_CP_NETNS" 2>/dev/null || true
	rm -rf "$RC_ETCD_DIR"
}

# cp_exec CMD...: run CMD in the control-plane netns.
cp_exec() {
	nsenter --net="/run/netns/$RC_CP_NETNS" -- "$@"
}

# rc_kubectl ARGS...: the pinned kubectl as cluster admin.
rc_kubectl() {
	cp_exec "$RC_BIN/kubectl" --kubeconfig="$RC_DIR/kubeconfig/admin.kubeconfig" "$@"
}
