/* CA injection into the two webhook configurations, written only when a bundle differs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certrotate.h"
#include "base64/base64.h"
#include "internal.h"
#include "log/log.h"

const struct kube_resource certrotate_validating_res = {
    .group = "admissionregistration.k8s.io",
    .version = "v1",
    .plural = "validatingwebhookconfigurations",
    .kind = "ValidatingWebhookConfiguration",
};
const struct kube_resource certrotate_mutating_res = {
    .group = "admissionregistration.k8s.io",
    .version = "v1",
    .plural = "mutatingwebhookconfigurations",
    .kind = "MutatingWebhookConfiguration",
};

/* Sets every webhook's clientConfig.caBundle to bundle; returns how many differed, or -ENOMEM. */
static int set_bundles(json_t *config, const char *bundle)
{
	json_t *hook;
	size_t i;
	int changed = 0;
	json_array_foreach(json_object_get(config, "webhooks"), i, hook)
	{
		json_t *cc = json_object_get(hook, "clientConfig");
		if (!json_is_object(cc)) {
			cc = json_object();
			if (!cc || json_object_set_new(hook, "clientConfig", cc) < 0)
				return -ENOMEM;
		}
		const char *have = json_string_value(json_object_get(cc, "caBundle"));
		if (have && strcmp(have, bundle) == 0)
			continue;
		if (json_object_set_new(cc, "caBundle", json_string(bundle)) < 0)
			return -ENOMEM;
		changed++;
	}
	return changed;
}

static int inject_one(struct kube_client *client, const struct kube_resource *res, const char *name,
		      const char *bundle, int *written, char *err, size_t errlen)
{
	json_t *config = NULL;
	int ret = kube_get(client, res, NULL, name, &config, err, errlen);
	if (ret == -ENOENT) {
		log_warn("webhook configuration not found; the CA is injected once it appears",
			 "name", name);
		return 0;
	}
	if (ret == 0 && (ret = set_bundles(config, bundle)) == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", name);
	if (ret > 0) {
		ret = kube_update(client, res, config, NULL, err, errlen);
		if (ret == 0) {
			log_info("injected the webhook CA bundle", "name", name);
			++*written;
		}
	}
	json_decref(config);
	return ret;
}

int certrotate_inject_ca(struct kube_client *client, const struct certrotate_names *names,
			 const char *ca_pem, int *written, char *err, size_t errlen)
{
	*written = 0;
	char *bundle = base64_encode(ca_pem, strlen(ca_pem));
	if (!bundle) {
		snprintf(err, errlen, "caBundle: out of memory");
		return -ENOMEM;
	}
	int ret = inject_one(client, &certrotate_validating_res, names->validating, bundle, written,
			     err, errlen);
	if (ret == 0)
		ret = inject_one(client, &certrotate_mutating_res, names->mutating, bundle, written,
				 err, errlen);
	free(bundle);
	return ret;
}
