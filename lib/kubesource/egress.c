/* The NAT client's Kubernetes reads at CNI ADD: the Egresses a pod asks for and their
 * Services, directly from the API server (a client pod cannot start before both exist:
 * kubelet retries the ADD). */
#include "kubesource/internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "err/err.h"

static int get_one(struct kubesource *ks, const struct kube_resource *res, const char *kind,
		   const struct natclient_ref *ref, json_t **out, char *err, size_t errlen)
{
	char why[512];
	int ret = kube_get(ks->fast, res, ref->ns, ref->name, out, why, sizeof(why));
	if (ret < 0)
		return errorf(err, errlen, api_errno(ret), "failed to get %s %s/%s: %s", kind,
			      ref->ns, ref->name, why);
	return 0;
}

static int add_ref(struct kubesource *ks, const struct natclient_ref *ref, bool originating_only,
		   struct natclient_gateways *gws, char *err, size_t errlen)
{
	json_t *egress = NULL, *service = NULL;
	int ret = get_one(ks, &COILAPI_RES_EGRESSES, "Egress", ref, &egress, err, errlen);
	if (ret == 0)
		ret = get_one(ks, &KUBE_RES_SERVICES, "Service", ref, &service, err, errlen);
	if (ret == 0)
		ret = natclient_gateways_add(gws, ref->ns, ref->name, egress, service,
					     originating_only, err, errlen);
	json_decref(egress);
	json_decref(service);
	return ret;
}

int kubesource_nat_gateways(void *ctx, const json_t *pod, bool originating_only,
			    struct natclient_gateways *gws, char *err, size_t errlen)
{
	struct kubesource *ks = ctx;
	struct natclient_refs refs;
	if (json_is_true(kube_json_path(pod, "spec.hostNetwork")))
		return 0;
	int ret =
	    natclient_refs_parse(kube_json_path(pod, "metadata.annotations"), &refs, err, errlen);
	for (size_t i = 0; ret == 0 && i < refs.n; i++)
		ret = add_ref(ks, &refs.items[i], originating_only, gws, err, errlen);
	natclient_refs_free(&refs);
	return ret;
}
