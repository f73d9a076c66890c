/* Egress-only mode (--enable-ipam=false): coil runs chained after another CNI (e.g. ptp +
 * host-local) that gave the pod its interface and addresses; coil tags the host end with its
 * alias and sets up the NAT client. The attachment is keyed by the Pod's UID. */
#include "coild/internal.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <errno.h>

#define ERRLEN 512

/* The host-side interface of prevResult: the first one without a sandbox (upstream takes one
 * in random map order). NULL when there is none. */
static const char *host_interface(const struct cni_rpc_request *req)
{
	for (size_t i = 0; i < req->n_interfaces; i++)
		if (!req->interfaces[i].in_sandbox)
			return req->interfaces[i].name;
	return NULL;
}

/* The first IPv4 and the first IPv6 of prevResult; the rest is ignored (upstream puts a second
 * IPv4 into the IPv6 slot). */
static void chained_addresses(const struct cni_rpc_request *req, struct natclient_pod *pod)
{
	for (size_t i = 0; i < req->n_ips; i++) {
		struct nl_ip ip;
		if (nl_ip_parse(req->ips[i], &ip) < 0)
			continue;
		struct nl_ip *slot = ip.family == AF_INET ? &pod->ipv4 : &pod->ipv6;
		if (!slot->family)
			*slot = ip;
	}
}

static const char *pod_uid(const json_t *pod)
{
	return json_string_value(json_object_get(json_object_get(pod, "metadata"), "uid"));
}

/* The empty 1.1.0 result: the plugin prints prevResult. */
static json_t *empty_result(void)
{
	return json_pack("{s:s,s:[],s:[]}", "cniVersion", CNI_VERSION_LATEST, "interfaces", "ips");
}

void coild_add_chained(struct coild *d, const struct cni_rpc_request *req,
		       struct cni_rpc_response *resp)
{
	char err[ERRLEN] = "", msg[ERRLEN + 64];
	json_t *pod = NULL;
	struct natclient_gateways gws = {0};
	if (!coild_lookup_pod(d, req, &pod, &gws, resp))
		return natclient_gateways_free(&gws);
	const char *uid = pod_uid(pod), *host = host_interface(req);
	int rc = -EINVAL;
	if (!uid)
		snprintf(err, sizeof(err), "the pod has no uid");
	else if (!host)
		snprintf(err, sizeof(err), "no host-side interface in prevResult");
	else
		rc = podnet_set_owner_alias(d->podnet, host, uid, req->ifname, err, sizeof(err));
	if (rc < 0) { /* upstream answers this with a bare status, no CNI error inside */
		snprintf(msg, sizeof(msg), "failed to set interface alias: %s", err);
		cni_rpc_response_set_error(resp, "Unknown", CNI_ERR_INTERNAL, msg, msg);
	} else if (gws.n > 0) {
		struct natclient_pod np = {.netns_path = req->netns};
		chained_addresses(req, &np);
		if (coild_setup_nat(d, uid, &np, &gws, err, sizeof(err)) < 0)
			coild_fail(resp, CNI_ERR_INTERNAL, "failed to setup pod network egress",
				   err);
	}
	if (!resp->failed && !(resp->result = empty_result()))
		coild_fail(resp, CNI_ERR_INTERNAL, "failed to marshal the result", "out of memory");
	json_decref(pod);
	natclient_gateways_free(&gws);
}

void coild_check_chained(struct coild *d, const struct cni_rpc_request *req,
			 struct cni_rpc_response *resp)
{
	char err[ERRLEN] = "";
	json_t *pod = NULL;
	int rc = d->cfg.pod_lookup(d->cfg.pod_lookup_ctx, req->pod_namespace, req->pod_name, &pod,
				   err, sizeof(err));
	const char *uid = rc == 0 ? pod_uid(pod) : NULL;
	if (!uid)
		coild_fail(resp, coild_error_code(rc), "unable to get pod", err);
	else if (podnet_check(d->podnet, uid, req->ifname, err, sizeof(err)) < 0)
		coild_fail(resp, CNI_ERR_INTERNAL, "check failed", "not found");
	json_decref(pod);
}
