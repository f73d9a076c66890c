/* The subjects of the coil-egress ClusterRoleBindings: exactly one ServiceAccount coil-egress
 * per namespace that has an Egress. Upstream only rewrites the list when it is not a prefix of
 * the current one, so namespaces whose last Egress went away stay bound; we replace the list
 * whenever it differs. */
#include "egressctl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static bool same_string(const json_t *a, const json_t *b, const char *key)
{
	const char *x = json_string_value(json_object_get(a, key));
	const char *y = json_string_value(json_object_get(b, key));
	return strcmp(x ? x : "", y ? y : "") == 0;
}

/* apiGroup is left out: the API server may fill it in for ServiceAccounts. */
static bool same_subjects(const json_t *current, const json_t *desired)
{
	if (json_array_size(current) != json_array_size(desired))
		return false;
	for (size_t i = 0; i < json_array_size(desired); i++) {
		const json_t *a = json_array_get(current, i), *b = json_array_get(desired, i);
		if (!same_string(a, b, "kind") || !same_string(a, b, "name") ||
		    !same_string(a, b, "namespace"))
			return false;
	}
	return true;
}

static int desired_subjects(struct kube_client *client, json_t **subjects, char *err, size_t errlen)
{
	json_t *egresses = NULL;
	int ret = kube_list_all(client, &COILAPI_RES_EGRESSES, NULL, NULL, &egresses, NULL, 0, err,
				errlen);
	*subjects = ret == 0 ? egressctl_crb_subjects(egresses) : NULL;
	json_decref(egresses);
	if (ret == 0 && !*subjects) {
		snprintf(err, errlen, "clusterrolebinding subjects: out of memory");
		ret = -ENOMEM;
	}
	return ret;
}

int egressctl_sync_crb(struct kube_client *client, const char *crb, bool required, char *err,
		       size_t errlen)
{
	json_t *subjects = NULL, *binding = NULL;
	int ret = desired_subjects(client, &subjects, err, errlen);
	if (ret == 0)
		ret = kube_get(client, &EGRESSCTL_RES_CRBS, NULL, crb, &binding, err, errlen);
	if (ret == -ENOENT) {
		if (required)
			snprintf(err, errlen,
				 "clusterrolebinding %s not found: it must exist (the controller "
				 "only maintains its subjects)",
				 crb);
		ret = required ? ret : 0;
	} else if (ret == 0 && !same_subjects(json_object_get(binding, "subjects"), subjects)) {
		json_object_set(binding, "subjects", subjects);
		ret = kube_update(client, &EGRESSCTL_RES_CRBS, binding, NULL, err, errlen);
	}
	json_decref(binding);
	json_decref(subjects);
	return ret;
}
