/* The Deployment, Service and PodDisruptionBudget of an Egress. A new object carries the
 * Egress as controller owner (for garbage collection) and the selector labels; an existing
 * one keeps what others added except the fields the Egress dictates. */
#include "egressctl.h"
#include "internal.h"

#include <string.h>

/* A copy of current, or the head of a new object with owner reference. */
static json_t *start_object(const char *api_version, const char *kind, const json_t *egress_obj,
			    const struct coilapi_egress *egress, const json_t *current)
{
	if (current)
		return json_deep_copy(current);
	return json_pack("{s:s, s:s, s:{s:s, s:s, s:o*}, s:{}}", "apiVersion", api_version, "kind",
			 kind, "metadata", "name", egress->name, "namespace", egress->namespace,
			 "ownerReferences",
			 coilapi_controller_refs(COILAPI_KIND_EGRESS, egress_obj), "spec");
}

/* Sets the selector labels on metadata.labels, keeping the others. Returns obj or NULL. */
static json_t *label(json_t *obj, const json_t *selector)
{
	json_t *labels = obj ? egressctl_child(egressctl_child(obj, "metadata"), "labels") : NULL;
	if (!labels || json_object_update(labels, (json_t *)selector) != 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

json_t *egressctl_build_deployment(const struct egressctl_config *cfg, const json_t *egress_obj,
				   const struct coilapi_egress *egress, const json_t *current)
{
	json_t *selector = egressctl_selector_labels(egress->name);
	json_t *dep =
	    label(start_object("apps/v1", "Deployment", egress_obj, egress, current), selector);
	json_t *spec = dep ? egressctl_child(dep, "spec") : NULL;
	if (spec && !current)
		json_object_set_new(spec, "selector", json_pack("{s:O}", "matchLabels", selector));
	if (spec) {
		json_object_set_new(spec, "replicas", json_integer(egress->replicas));
		if (egress->strategy)
			json_object_set_new(spec, "strategy", json_deep_copy(egress->strategy));
		const json_t *annotations =
		    kube_json_path(json_object_get(spec, "template"), "metadata.annotations");
		json_t *tmpl = egressctl_build_pod_template(cfg, egress, annotations);
		if (!tmpl || json_object_set_new(spec, "template", tmpl) != 0) {
			json_decref(dep);
			dep = NULL;
		}
	}
	json_decref(selector);
	return dep;
}

json_t *egressctl_build_service(const struct egressctl_config *cfg, const json_t *egress_obj,
				const struct coilapi_egress *egress, const json_t *current)
{
	json_t *selector = egressctl_selector_labels(egress->name);
	json_t *svc = label(start_object("v1", "Service", egress_obj, egress, current), selector);
	json_t *spec = svc ? egressctl_child(svc, "spec") : NULL;
	if (spec) {
		json_object_set_new(spec, "type", json_string("ClusterIP"));
		json_object_set(spec, "selector", selector);
		json_object_set_new(spec, "ports",
				    json_pack("[{s:i, s:i, s:s}]", "port", cfg->egress_port,
					      "targetPort", cfg->egress_port, "protocol", "UDP"));
		json_object_set_new(spec, "sessionAffinity", json_string(egress->session_affinity));
		if (egress->session_affinity_config)
			json_object_set_new(spec, "sessionAffinityConfig",
					    json_deep_copy(egress->session_affinity_config));
		json_object_set_new(spec, "ipFamilyPolicy", json_string("PreferDualStack"));
	}
	json_decref(selector);
	return svc;
}

/* Upstream leaves a field set that the Egress no longer has, and the API server then rejects
 * a PDB with both; we clear it. */
static void copy_or_clear(json_t *spec, const json_t *pdb, const char *key)
{
	const json_t *value = json_object_get(pdb, key);
	if (value && !json_is_null(value))
		json_object_set_new(spec, key, json_deep_copy(value));
	else
		json_object_del(spec, key);
}

json_t *egressctl_build_pdb(const json_t *egress_obj, const struct coilapi_egress *egress,
			    const json_t *current)
{
	json_t *selector = egressctl_selector_labels(egress->name);
	json_t *pdb =
	    label(start_object("policy/v1", "PodDisruptionBudget", egress_obj, egress, current),
		  selector);
	json_t *spec = pdb ? egressctl_child(pdb, "spec") : NULL;
	if (spec) {
		copy_or_clear(spec, egress->pod_disruption_budget, "minAvailable");
		copy_or_clear(spec, egress->pod_disruption_budget, "maxUnavailable");
		json_object_set_new(spec, "selector", json_pack("{s:O}", "matchLabels", selector));
	}
	json_decref(selector);
	return pdb;
}
