# Helpers of the end-to-end suite (sourced by run.sh): kubectl, waits, test pods,
# namespaces, coil's logs, and the test runner. Everything the suite creates is named e2e-*
# and removed by e2e_cleanup.

E2E_PASSED=() E2E_FAILED=()
E2E_NS_PREFIX=e2e-

k() { "$KUBECTL" --kubeconfig "$kubeconfig" "$@"; }
e2e_log() { printf 'e2e: %s\n' "$*" >&2; }
fail() {
	e2e_log "FAIL: $*"
	return 1
}

# wait_until SECONDS WHAT CMD...: polls CMD once a second until it succeeds.
wait_until() {
	local secs=$1 what=$2 end
	shift 2
	end=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		((SECONDS < end)) || fail "timed out after ${secs}s waiting for $what" || return 1
		sleep 1
	done
}

# e2e_run NAME FUNCTION: one test in a subshell with errexit, so its first failing command
# fails it without stopping the suite; tests share nothing but the cluster.
e2e_run() {
	local name=$1 fn=$2 rc start=$SECONDS
	e2e_log "--- $name"
	set +e
	(
		set -e
		"$fn"
	)
	rc=$?
	set -e
	if ((rc == 0)); then
		e2e_log "ok: $name ($((SECONDS - start)) s)"
		E2E_PASSED+=("$name")
	else
		e2e_log "not ok: $name ($((SECONDS - start)) s)"
		E2E_FAILED+=("$name")
	fi
}

e2e_summary() {
	e2e_log "${#E2E_PASSED[@]} passed: ${E2E_PASSED[*]:-}"
	e2e_log "${#E2E_FAILED[@]} failed: ${E2E_FAILED[*]:-}"
	e2e_log "coil's logs: $artifacts/logs"
	((${#E2E_FAILED[@]} == 0))
}

# new_ns NAME [POOL]: a namespace (annotated to use POOL) whose pods can be admitted (its
# default ServiceAccount exists).
new_ns() {
	local ns=$1 pool=${2:-}
	k create namespace "$ns" >/dev/null
	[[ -z $pool ]] || k annotate namespace "$ns" "coil.cybozu.com/pool=$pool" >/dev/null
	wait_until 60 "ServiceAccount $ns/default" k -n "$ns" get serviceaccount default
}

# pod_spec NODE INDENT: the spec of a sleeping busybox pod pinned to NODE, each line
# prefixed with INDENT (for a Pod or a pod template).
pod_spec() {
	sed "s/^/$2/" <<EOF
nodeSelector: {kubernetes.io/hostname: $1}
terminationGracePeriodSeconds: 1
containers:
- name: busybox
  image: $image
  imagePullPolicy: $pull
  command: [/bin/busybox, sleep, "100000"]
EOF
}

# pod_yaml NAME NAMESPACE NODE: a sleeping busybox pod pinned to NODE.
pod_yaml() {
	printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: %s, labels: {app: e2e}}\nspec:\n' "$1" "$2"
	pod_spec "$3" "  "
}

# run_pod NAME NAMESPACE NODE: creates the pod and waits until it is Ready.
run_pod() {
	pod_yaml "$@" | k apply -f - >/dev/null
	k -n "$2" wait --for=condition=Ready "pod/$1" --timeout=180s >/dev/null ||
		fail "pod $2/$1 on $3 not Ready: $(k -n "$2" get events --field-selector "involvedObject.name=$1" -o jsonpath='{.items[-1:].message}')"
}

pod_ips() { k -n "$1" get pod "$2" -o jsonpath='{.status.podIPs[*].ip}'; }

# in_pod NAMESPACE POD BUSYBOX-APPLET ARGS...
in_pod() {
	local ns=$1 pod=$2
	shift 2
	k -n "$ns" exec "$pod" -- /bin/busybox "$@"
}

# ping_ok NAMESPACE POD IP: one ICMP echo from the pod answered (-6 for IPv6 targets).
ping_ok() {
	local v=()
	[[ $3 != *:* ]] || v=(-6)
	in_pod "$1" "$2" ping "${v[@]}" -c1 -W3 "$3" >/dev/null
}

worker_nodes() { k get nodes -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}' | grep -v '^e2e-'; }

coil_pods() { k -n kube-system get pods -l app.kubernetes.io/name=coil -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}'; }

# save_logs: every coil pod's logs (all containers, and the previous run of a restarted one),
# kept under $artifacts/logs before pods go away, so the RBAC check sees them all.
save_logs() {
	local pod
	for pod in $(coil_pods); do
		k -n kube-system logs "$pod" --all-containers --prefix >"$artifacts/logs/$pod.log" 2>&1 || true
		k -n kube-system logs "$pod" --all-containers --prefix --previous \
			>"$artifacts/logs/$pod.previous.log" 2>/dev/null || rm -f "$artifacts/logs/$pod.previous.log"
	done
}

# e2e_cleanup: every e2e-* namespace (waiting until their pods are gone, so that coild frees
# their addresses), the fake Node and the test pools.
e2e_cleanup() {
	local nss
	save_logs || true
	nss=$(k get namespaces -o name | grep "^namespace/$E2E_NS_PREFIX" || true)
	[[ -z $nss ]] || k delete $nss --wait=true --timeout=300s >/dev/null 2>&1 ||
		e2e_log "warning: not all test namespaces were removed"
	k delete node e2e-fake-node --ignore-not-found >/dev/null 2>&1 || true
	k get addresspools -o name 2>/dev/null | grep "^addresspool.coil.cybozu.com/$E2E_NS_PREFIX" |
		xargs -r "$KUBECTL" --kubeconfig "$kubeconfig" delete --wait=false >/dev/null 2>&1 || true
}
