/* The daemon's other Kubernetes reads: the Pod on ADD (a direct GET, never a cache) and the
 * Node at shutdown (--clear-routes-on-shutdown empties table 119 only if it is gone). */
#include "kubesource/internal.h"

#include <errno.h>
#include <stdio.h>

#include "log/log.h"

int kubesource_pod_lookup(void *ctx, const char *ns, const char *name, json_t **out, char *err,
			  size_t errlen)
{
	struct kubesource *ks = ctx;
	if (!ns || !*ns || !name || !*name) {
		snprintf(err, errlen, "missing pod name/namespace");
		return -EINVAL;
	}
	json_t *pod = NULL;
	char why[512];
	int ret = kube_get(ks->fast, &KUBE_RES_PODS, ns, name, &pod, why, sizeof(why));
	if (out && ret == 0)
		*out = pod;
	else
		json_decref(pod);
	if (ret == -ENOENT)
		snprintf(err, errlen, "pod not found: %s/%s", ns, name);
	else if (ret < 0)
		snprintf(err, errlen, "%s", why);
	return ret == -ENOENT ? ret : api_errno(ret);
}

int kubesource_node_gone(struct kubesource *ks, long timeout_ms, char *err, size_t errlen)
{
	/* A client of its own: the whole lookup, retries included, ends within timeout_ms. */
	struct kube_client_options opts = {.max_tries = 3,
					   .deadline_ms = timeout_ms,
					   .backoff_base_ms = 200,
					   .backoff_max_ms = 1000,
					   .timeout_ms = timeout_ms / 2 > 0 ? timeout_ms / 2 : 1};
	struct kube_client *client = NULL;
	json_t *node = NULL;
	int ret = kube_client_new(ks->kube, &opts, &client, err, errlen);
	if (ret == 0)
		ret = kube_get(client, &KUBE_RES_NODES, NULL, ks->node, &node, err, errlen);
	json_decref(node);
	kube_client_free(client);
	if (ret == -ENOENT)
		return 1;
	return ret < 0 ? ret : 0;
}

void kubesource_report_drift(void *ctx, const char *reason, const char *note)
{
	struct kubesource *ks = ctx;
	struct kube_event ev = {
	    .regarding = {.api_version = "v1",
			  .kind = "Node",
			  .name = ks->node,
			  .uid = ks->node_uid},
	    .type = "Warning",
	    .reason = reason,
	    .note = note,
	    .action = "Repair",
	    .reporting_controller = "coil.cybozu.com/coild",
	    .reporting_instance = ks->node,
	};
	char err[512];
	if (kube_event_create(ks->fast, &ev, NULL, err, sizeof(err)) < 0)
		log_warn("cannot report a drift repair as an Event", "reason", reason, "error",
			 err);
}
