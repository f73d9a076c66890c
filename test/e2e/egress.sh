# The egress-controller test of the end-to-end suite (sourced by run.sh; runs in a subshell
# with errexit, see e2e_run): what coil-egress-controller makes of Egress objects on the
# cluster, checked on the objects themselves (the Deployment, its ReplicaSets, the Service,
# ServiceAccount, ClusterRoleBinding subjects, PodDisruptionBudget, the Egress's status and
# scale), not on the gateway pods becoming Ready: that is the data path's business.
#
# Kubernetes' own controllers take part: the garbage collector removes what an Egress owned,
# the Deployment controller rolls a new ReplicaSet, and the HPA controller scales the Egress
# through its scale subresource. No metrics server is needed for the last: an HPA whose
# minReplicas is above the current replica count scales up to it without reading metrics.

EG_NS=e2e-egress EG_NS2=e2e-egress-b
EG_LABELS='app.kubernetes.io/component=egress,app.kubernetes.io/instance=eg,app.kubernetes.io/name=coil'

# egress_yaml NAMESPACE NAME [SPEC-LINES]: an Egress to both families' test networks.
egress_yaml() {
	printf 'apiVersion: coil.cybozu.com/v2\nkind: Egress\nmetadata: {name: %s, namespace: %s}\nspec:\n  destinations: [10.1.2.0/24, "fd03::/120"]\n  replicas: 1\n%s\n' \
		"$2" "$1" "${3:-}"
}

# jget KIND NAME JQ-ARGS...: jq -e with JQ-ARGS (options, then the filter) applied to the
# object in EG_NS; fails when the object is missing or the filter yields false or null.
jget() {
	local kind=$1 name=$2
	shift 2
	k -n "$EG_NS" get "$kind" "$name" -o json | jq -er "$@"
}
json_true() { jget "$@" >/dev/null; }

# owned_by_egress KIND NAME: its one owner reference is the controller reference to Egress eg.
owned_by_egress() {
	json_true "$1" "$2" --arg uid "$(jget egress eg .metadata.uid)" \
		'.metadata.ownerReferences | length == 1 and .[0].kind == "Egress" and .[0].name == "eg"
		 and .[0].uid == $uid and .[0].controller == true and .[0].blockOwnerDeletion == true'
}

crb_namespaces() {
	k get clusterrolebinding coil-egress -o json |
		jq -r '[.subjects[]? | select(.kind == "ServiceAccount" and .name == "coil-egress") | .namespace] | sort | join(",")'
}
crb_is() { [[ $(crb_namespaces) == "$1" ]]; }

# exists / gone KIND NAME [NAMESPACE]
exists() { k -n "${3:-$EG_NS}" get "$1" "$2" >/dev/null 2>&1; }
gone() { ! exists "$@"; }

# create_egress: the first Egress, once the egress webhook answers (its certificate is
# rotated in at start, and kubelet refreshes the Secret volume within about a minute).
create_egress() {
	local end=$((SECONDS + 120)) out
	until out=$(egress_yaml "$EG_NS" eg | k apply -f - 2>&1); do
		((SECONDS < end)) || fail "Egress $EG_NS/eg not admitted: $out" || return 1
		sleep 2
	done
}

egress_created() {
	local image deploy
	wait_until 60 "Deployment $EG_NS/eg" exists deployment eg
	wait_until 30 "Service $EG_NS/eg" exists service eg
	exists serviceaccount coil-egress || fail "no ServiceAccount $EG_NS/coil-egress"
	owned_by_egress deployment eg || fail "Deployment eg: not owned by Egress eg"
	owned_by_egress service eg || fail "Service eg: not owned by Egress eg"
	image=$(k -n kube-system get deployment coil-egress-controller -o jsonpath='{.spec.template.spec.containers[0].image}')
	deploy=$(k -n "$EG_NS" get deployment eg -o json)
	jq -e --arg image "$image" --arg sel "$EG_LABELS" '
		.spec.replicas == 1 and
		(.spec.selector.matchLabels | to_entries | map("\(.key)=\(.value)") | sort | join(",")) == $sel and
		.spec.template.spec.serviceAccountName == "coil-egress" and
		(.spec.template.spec.volumes | map(.name) | sort) == ["modules", "run"] and
		(.spec.template.spec.containers | length) == 1 and
		(.spec.template.spec.containers[0] | .name == "egress" and .image == $image and
			.command == ["coil-egress"] and (.env | map(.name)) == ["COIL_POD_NAMESPACE", "COIL_EGRESS_NAME", "COIL_POD_ADDRESSES"] and
			.securityContext.privileged == true and .securityContext.readOnlyRootFilesystem == true and
			.resources.requests.cpu == "100m" and .resources.requests.memory == "200Mi" and
			(.ports | map("\(.name)/\(.containerPort)")) == ["metrics/8080", "health/8081"] and
			.livenessProbe.httpGet.path == "/healthz" and .readinessProbe.httpGet.path == "/readyz")' \
		<<<"$deploy" >/dev/null || fail "Deployment eg is not the gateway Deployment: $(jq -c .spec <<<"$deploy")"
	# A dual-stack cluster gives the Service (PreferDualStack) a ClusterIP of each family.
	json_true service eg --arg fam "$family" '
		.spec.type == "ClusterIP" and .spec.sessionAffinity == "ClientIP" and
		(.spec.ports | length == 1 and .[0].port == 5555 and .[0].protocol == "UDP") and
		(.spec.selector | length == 3 and .["app.kubernetes.io/instance"] == "eg") and
		.spec.ipFamilyPolicy == "PreferDualStack" and
		(.spec.clusterIPs | length) == (if $fam == "dual-stack" then 2 else 1 end)' ||
		fail "Service eg: $(jget service eg -c .spec)"
	wait_until 60 "status.selector of Egress eg" json_true egress eg --arg sel "$EG_LABELS" '.status.selector == $sel'
	e2e_log "Egress eg: Deployment, Service ($(jget service eg '.spec.clusterIPs | join(" ")')), ServiceAccount, status.selector"
}

# replicasets_of_eg: how many ReplicaSets the Deployment eg owns.
replicasets_of_eg() {
	k -n "$EG_NS" get replicasets -l "$EG_LABELS" -o json |
		jq '[.items[] | select(.metadata.ownerReferences[]?.name == "eg")] | length'
}
two_replicasets() { [[ $(replicasets_of_eg) == 2 ]]; }

egress_updated() {
	egress_yaml "$EG_NS" eg "  sessionAffinity: None
  template:
    metadata:
      annotations: {e2e: rolled}
      labels: {e2e-label: x}" | k apply -f - >/dev/null
	wait_until 60 "the pod template of Deployment eg to change" json_true deployment eg \
		'.spec.template.metadata.annotations.e2e == "rolled" and .spec.template.metadata.labels["e2e-label"] == "x"'
	wait_until 60 "a second ReplicaSet (the rollout of the new template)" two_replicasets
	wait_until 30 "sessionAffinity None on Service eg" json_true service eg '.spec.sessionAffinity == "None"'
	e2e_log "template change: Deployment revision $(jget deployment eg '.metadata.annotations["deployment.kubernetes.io/revision"]'), $(replicasets_of_eg) ReplicaSets; Service sessionAffinity None"
}

hpa_scaled() {
	k apply -f - >/dev/null <<EOF
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: eg, namespace: $EG_NS}
spec:
  scaleTargetRef: {apiVersion: coil.cybozu.com/v2, kind: Egress, name: eg}
  minReplicas: 2
  maxReplicas: 3
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
EOF
	wait_until 90 "the HPA to scale Egress eg to 2" json_true egress eg '.spec.replicas == 2'
	wait_until 30 "Deployment eg to follow to 2 replicas" json_true deployment eg '.spec.replicas == 2'
	k -n "$EG_NS" get --raw "/apis/coil.cybozu.com/v2/namespaces/$EG_NS/egresses/eg/scale" |
		jq -e --arg sel "$EG_LABELS" '.spec.replicas == 2 and .status.selector == $sel' >/dev/null ||
		fail "the scale subresource of Egress eg does not show 2 replicas and the selector"
	e2e_log "HPA: Egress eg scaled to 2 through /scale (conditions: $(k -n "$EG_NS" get hpa eg -o jsonpath='{range .status.conditions[*]}{.type}={.reason} {end}')); Deployment followed"
	k -n "$EG_NS" delete hpa eg >/dev/null
}

pdb_added_removed() {
	k -n "$EG_NS" patch egress eg --type merge -p '{"spec": {"podDisruptionBudget": {"maxUnavailable": 1}}}' >/dev/null
	wait_until 60 "PodDisruptionBudget eg" exists pdb eg
	owned_by_egress pdb eg || fail "PDB eg: not owned by Egress eg"
	json_true pdb eg --arg sel "$EG_LABELS" \
		'.spec.maxUnavailable == 1 and (.spec.minAvailable == null) and
		 (.spec.selector.matchLabels | to_entries | map("\(.key)=\(.value)") | sort | join(",")) == $sel' ||
		fail "PDB eg: $(jget pdb eg -c .spec)"
	k -n "$EG_NS" patch egress eg --type json -p '[{"op": "remove", "path": "/spec/podDisruptionBudget"}]' >/dev/null
	wait_until 60 "PodDisruptionBudget eg to be deleted" gone pdb eg
	e2e_log "PDB: created with maxUnavailable 1, deleted when the Egress dropped it"
}

subjects_and_deletion() {
	wait_until 30 "ClusterRoleBinding coil-egress to bind $EG_NS" crb_is "$EG_NS"
	new_ns "$EG_NS2"
	egress_yaml "$EG_NS2" eg | k apply -f - >/dev/null
	wait_until 60 "ClusterRoleBinding coil-egress to bind both namespaces" crb_is "$EG_NS,$EG_NS2"
	exists serviceaccount coil-egress "$EG_NS2" || fail "no ServiceAccount $EG_NS2/coil-egress"
	k -n "$EG_NS" delete egress eg --wait=true >/dev/null
	wait_until 90 "the garbage collector to remove Deployment eg" gone deployment eg
	wait_until 30 "the garbage collector to remove Service eg" gone service eg
	wait_until 60 "ClusterRoleBinding coil-egress to drop $EG_NS" crb_is "$EG_NS2"
	e2e_log "Egress $EG_NS/eg deleted: Deployment and Service collected; binding subjects now $(crb_namespaces)"
	k -n "$EG_NS2" delete egress eg --wait=true >/dev/null
	wait_until 60 "ClusterRoleBinding coil-egress to have no subjects" crb_is ""
}

test_egress_controller() {
	k -n kube-system rollout status deployment/coil-egress-controller --timeout=180s >/dev/null
	new_ns "$EG_NS"
	create_egress
	egress_created
	egress_updated
	hpa_scaled
	pdb_added_removed
	subjects_and_deletion
}
