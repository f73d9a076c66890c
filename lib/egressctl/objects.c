/* The vocabulary of generated objects: resource descriptors, selector labels and their string
 * form, owner references, and the ClusterRoleBinding subjects. */
#include "egressctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct kube_resource EGRESSCTL_RES_SERVICEACCOUNTS = {.group = "",
							    .version = "v1",
							    .plural = "serviceaccounts",
							    .kind = "ServiceAccount",
							    .namespaced = true};
const struct kube_resource EGRESSCTL_RES_PDBS = {.group = "policy",
						 .version = "v1",
						 .plural = "poddisruptionbudgets",
						 .kind = "PodDisruptionBudget",
						 .namespaced = true};
const struct kube_resource EGRESSCTL_RES_CRBS = {.group = "rbac.authorization.k8s.io",
						 .version = "v1",
						 .plural = "clusterrolebindings",
						 .kind = "ClusterRoleBinding"};

json_t *egressctl_selector_labels(const char *name)
{
	return json_pack("{s:s, s:s, s:s}", COILAPI_LABEL_APP_NAME, COILAPI_APP_NAME,
			 COILAPI_LABEL_APP_INSTANCE, name, COILAPI_LABEL_APP_COMPONENT,
			 COILAPI_EGRESS_COMPONENT);
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of obj sorted; a malloc'd array of n borrowed strings, NULL when empty or on
 * ENOMEM (*n then 0). */
static const char **sorted_keys(const json_t *obj, size_t *n)
{
	*n = 0;
	size_t size = json_object_size(obj);
	const char **keys = size ? calloc(size, sizeof(*keys)) : NULL;
	const char *key;
	const json_t *value;
	if (!keys)
		return NULL;
	json_object_foreach((json_t *)obj, key, value) keys[(*n)++] = key;
	qsort(keys, *n, sizeof(*keys), compare_strings);
	return keys;
}

char *egressctl_selector_string(const json_t *match_labels)
{
	size_t n, len;
	const char **keys = sorted_keys(match_labels, &n);
	char *text = NULL;
	FILE *out = open_memstream(&text, &len);
	for (size_t i = 0; out && i < n; i++) {
		const char *value = json_string_value(json_object_get(match_labels, keys[i]));
		fprintf(out, "%s%s=%s", i ? "," : "", keys[i], value ? value : "");
	}
	if (out && fclose(out) != 0) {
		free(text);
		text = NULL;
	}
	free(keys);
	return text;
}

bool egressctl_owner_egress(const json_t *obj, const char **owner)
{
	*owner = coilapi_controller_owner(obj, COILAPI_KIND_EGRESS);
	return *owner != NULL;
}

json_t *egressctl_crb_subjects(const json_t *egresses)
{
	json_t *set = json_object(), *subjects = json_array();
	size_t i, n;
	const json_t *egress;
	json_array_foreach(egresses, i, egress)
	{
		const char *ns = kube_obj_namespace(egress);
		if (ns && ns[0])
			json_object_set_new(set, ns, json_true());
	}
	const char **keys = sorted_keys(set, &n);
	for (i = 0; subjects && i < n; i++) {
		if (json_array_append_new(subjects,
					  json_pack("{s:s, s:s, s:s}", "kind", "ServiceAccount",
						    "name", EGRESSCTL_SERVICE_ACCOUNT, "namespace",
						    keys[i])) != 0) {
			json_decref(subjects);
			subjects = NULL;
		}
	}
	free(keys);
	json_decref(set);
	return subjects;
}
