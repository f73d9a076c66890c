/* ADD, DEL, CHECK, STATUS and GC as coild serves them, with upstream's error messages (see
 * docs/behaviour/daemon.md, 'Errors'). Every failure reaches the plugin as code 999 with the outer
 * message, except "try again later" conditions (code 11) and STATUS (50). */
#include "coild/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fault/fault.h"
#include "log/log.h"

#define ERRLEN 512

void coild_fail(struct cni_rpc_response *resp, int code, const char *msg, const char *details)
{
	cni_rpc_response_set_error(resp, "Internal", code, msg, details);
}

/* IS_CHAINED as Go's strconv.ParseBool; -EINVAL when it is neither. */
int coild_parse_chained(const char *text, bool *chained)
{
	static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
	static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
	*chained = false;
	if (!text || !*text)
		return 0;
	for (size_t i = 0; i < 6; i++) {
		if (strcmp(text, yes[i]) == 0) {
			*chained = true;
			return 0;
		}
		if (strcmp(text, no[i]) == 0)
			return 0;
	}
	return -EINVAL;
}

/* The pool of the pod's namespace. Without K8S_POD_NAMESPACE (a runtime other than
 * kubelet, e.g. `ctr run --cni`, nerdctl) the pod gets the default pool. */
static int choose_pool(struct coild *d, const struct cni_rpc_request *req, char *pool,
		       size_t poollen, char *err, size_t errlen)
{
	const char *ns = req->pod_namespace && *req->pod_namespace ? req->pod_namespace : NULL;
	if (!ns) {
		snprintf(pool, poollen, "%s", d->cfg.default_pool);
		return 0;
	}
	return d->source->ops->pool_for_namespace(d->source->ctx, ns, pool, poollen, err, errlen);
}

/* -EAGAIN from the source means it cannot be reached now, -EIO that the state directory
 * cannot take the record (a full disk): either way the runtime should retry later. */
int coild_error_code(int rc)
{
	return rc == -EAGAIN || rc == -EIO ? CNI_ERR_TRY_AGAIN_LATER : CNI_ERR_INTERNAL;
}

static int parse_ip(const char *text, struct nl_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	return text[0] ? nl_ip_parse(text, ip) : 0;
}

static json_t *result_json(const struct podnet_result *res)
{
	struct cni_result r = {0};
	json_t *doc = NULL;
	char cidr[NL_PREFIX_STRLEN], err[128];
	int rc = 0;
	for (size_t i = 0; rc >= 0 && i < 2; i++)
		rc = cni_result_add_interface(&r, res->ifaces[i].name, res->ifaces[i].mac,
					      res->ifaces[i].sandbox[0] ? res->ifaces[i].sandbox
									: NULL);
	for (size_t i = 0; rc >= 0 && i < res->n_ips; i++)
		rc = cni_result_add_ip(&r, nl_prefix_format(&res->ips[i], cidr, sizeof(cidr)), NULL,
				       0);
	if (rc >= 0)
		doc = cni_result_to_json(&r, CNI_VERSION_LATEST, err, sizeof(err));
	cni_result_free(&r);
	return doc;
}

static int setup_network(struct coild *d, const struct cni_rpc_request *req, const char *pool,
			 const char *v4, const char *v6, struct podnet_result *res, char *err,
			 size_t errlen)
{
	struct podnet_pod pod = {
	    .netns_path = req->netns,
	    .has_netns_fd = req->has_netns_fd,
	    .netns_fd = req->netns_fd,
	    .pod_namespace = req->pod_namespace ? req->pod_namespace : "",
	    .pod_name = req->pod_name ? req->pod_name : "",
	    .container_id = req->container_id,
	    .ifname = req->ifname,
	    .pool = pool,
	};
	if (parse_ip(v4, &pod.ipv4) < 0 || parse_ip(v6, &pod.ipv6) < 0) {
		snprintf(err, errlen, "allocated a malformed address: %s %s", v4, v6);
		return -EINVAL;
	}
	return podnet_setup(d->podnet, &pod, res, err, errlen);
}

/* The pod (Kubernetes mode) and the NAT gateways it asks for. An unreachable API server lets
 * an ADD go on without the pod only when no NAT client can be asked for: with egress, a pod
 * whose Egress cannot be read must not start with its traffic going out natively. */
bool coild_lookup_pod(struct coild *d, const struct cni_rpc_request *req, json_t **pod_out,
		      struct natclient_gateways *gws, struct cni_rpc_response *resp)
{
	char err[ERRLEN] = "";
	json_t *pod = NULL;
	if (!d->cfg.pod_lookup)
		return true;
	int rc = d->cfg.pod_lookup(d->cfg.pod_lookup_ctx, req->pod_namespace, req->pod_name, &pod,
				   err, sizeof(err));
	if (rc == -EAGAIN && !d->cfg.nat_gateways) {
		log_warn("API server unreachable; adding the pod without checking it", "pod",
			 req->pod_name, "namespace", req->pod_namespace, "error", err);
		return true;
	}
	if (rc < 0) {
		coild_fail(resp, coild_error_code(rc), "failed to get pod", err);
		return false;
	}
	rc = d->cfg.nat_gateways
		 ? d->cfg.nat_gateways(d->cfg.nat_gateways_ctx, pod, d->cfg.originating_only, gws,
				       err, sizeof(err))
		 : 0;
	if (pod_out && rc == 0)
		*pod_out = pod; /* the caller's now */
	else
		json_decref(pod);
	if (rc < 0)
		coild_fail(resp, coild_error_code(rc), "failed to setup NAT hook", err);
	return rc == 0;
}

struct nat_setup {
	struct coild *d;
	const struct natclient_pod *pod;
	const struct natclient_gateways *gws;
	char *err;
	size_t errlen;
};

static int nat_setup_locked(void *arg)
{
	struct nat_setup *n = arg;
	return natclient_setup(&n->d->cfg.nat, n->pod, n->gws, n->err, n->errlen);
}

int coild_setup_nat(struct coild *d, const char *lock_key, const struct natclient_pod *pod,
		    const struct natclient_gateways *gws, char *err, size_t errlen)
{
	struct nat_setup n = {d, pod, gws, err, errlen};
	return podnet_with_container_lock(d->podnet, lock_key, nat_setup_locked, &n);
}

static int setup_nat(struct coild *d, const struct cni_rpc_request *req,
		     const struct podnet_result *res, const struct natclient_gateways *gws,
		     char *err, size_t errlen)
{
	struct natclient_pod pod = {
	    .netns_path = req->netns, .has_netns_fd = req->has_netns_fd, .netns_fd = req->netns_fd};
	for (size_t i = 0; i < res->n_ips; i++) {
		struct nl_ip *slot = res->ips[i].ip.family == AF_INET ? &pod.ipv4 : &pod.ipv6;
		*slot = res->ips[i].ip;
	}
	return coild_setup_nat(d, req->container_id, &pod, gws, err, errlen);
}

/* Undoes a pod network whose NAT client failed: upstream leaves it for the runtime's DEL, but
 * a pod that never started must not hold a veth and an address meanwhile. */
static void undo_pod_network(struct coild *d, const struct cni_rpc_request *req)
{
	char err[ERRLEN];
	if (podnet_destroy(d->podnet, req->container_id, req->ifname, err, sizeof(err)) < 0)
		log_warn("failed to delete the pod network after a failed NAT setup", "error", err);
	else if (node_ipam_free(d->ipam, req->container_id, req->ifname, err, sizeof(err)) < 0)
		log_warn("failed to free an address after a failed NAT setup", "error", err);
}

static void add_pod(struct coild *d, const struct cni_rpc_request *req,
		    const struct natclient_gateways *gws, struct cni_rpc_response *resp)
{
	char err[ERRLEN] = "", pool[NODE_NAME_MAX], v4[IP_ADDR_STRLEN], v6[IP_ADDR_STRLEN];
	struct podnet_result res;
	int rc = choose_pool(d, req, pool, sizeof(pool), err, sizeof(err));
	if (rc < 0)
		return coild_fail(resp, coild_error_code(rc), "failed to get namespace", err);
	rc = coild_reaper_settle(d->reaper, req->container_id, req->ifname, err, sizeof(err));
	if (rc < 0)
		return coild_fail(resp, CNI_ERR_INTERNAL,
				  "failed to destroy the previous pod network", err);
	rc = node_ipam_allocate(d->ipam, pool, req->container_id, req->ifname, v4, v6, err,
				sizeof(err));
	/* Addresses of pods being reaped come back within milliseconds: a full node waits for
	 * them rather than failing. */
	if (rc < 0 && rc != -EINVAL && coild_reaper_flush(d->reaper))
		rc = node_ipam_allocate(d->ipam, pool, req->container_id, req->ifname, v4, v6, err,
					sizeof(err));
	if (rc < 0)
		return coild_fail(resp, coild_error_code(rc), "failed to allocate address", err);
	fault_point("add:allocated");
	if (setup_network(d, req, pool, v4, v6, &res, err, sizeof(err)) < 0) {
		char ferr[ERRLEN];
		if (node_ipam_free(d->ipam, req->container_id, req->ifname, ferr, sizeof(ferr)) < 0)
			log_warn("failed to free an address after a failed setup", "error", ferr);
		return coild_fail(resp, CNI_ERR_INTERNAL, "failed to setup pod network IPAM", err);
	}
	fault_point("add:set-up");
	if (gws->n > 0 && setup_nat(d, req, &res, gws, err, sizeof(err)) < 0) {
		undo_pod_network(d, req);
		return coild_fail(resp, CNI_ERR_INTERNAL, "failed to setup pod network egress",
				  err);
	}
	resp->result = result_json(&res);
	if (!resp->result)
		coild_fail(resp, CNI_ERR_INTERNAL, "failed to marshal the result", "out of memory");
}

void coild_add(struct coild *d, const struct cni_rpc_request *req, struct cni_rpc_response *resp)
{
	bool chained;
	struct natclient_gateways gws = {0};
	if (coild_parse_chained(req->is_chained, &chained) < 0)
		return coild_fail(resp, CNI_ERR_INTERNAL, "failed to get CNI arguments",
				  "runtime error");
	if (d->cfg.egress_only)
		return coild_add_chained(d, req, resp);
	if (chained)
		return coild_fail(
		    resp, CNI_ERR_INTERNAL,
		    "coil must be called as the first plugin when IPAM related features "
		    "are enabled",
		    "configuration error");
	/* The NAT hook is computed before anything is allocated, so that a missing Egress or
	 * Service leaves nothing behind (upstream computes it after the pod network). */
	if (coild_lookup_pod(d, req, NULL, &gws, resp))
		add_pod(d, req, &gws, resp);
	natclient_gateways_free(&gws);
}

/* Takes the attachment's pod network out of service: its host veth is retired (down, its
 * routes gone, invisible to every lookup) and handed to the reaper, which deletes it in the
 * background and then frees the address. Without a veth the address is freed here. A DEL of
 * an attachment the reaper already has is done. */
static int remove_attachment(struct coild *d, const char *container_id, const char *ifname,
			     const char **what, char *err, size_t errlen)
{
	int ifindex = 0;
	*what = "failed to destroy pod network";
	if (coild_reaper_owns(d->reaper, container_id, ifname))
		return 0;
	int rc = podnet_retire(d->podnet, container_id, ifname, &ifindex, err, errlen);
	if (rc == 0 && ifindex)
		return coild_reaper_add(d->reaper, container_id, ifname, ifindex, err, errlen);
	if (rc < 0)
		return rc;
	*what = "failed to free addresses";
	return node_ipam_free(d->ipam, container_id, ifname, err, errlen);
}

void coild_del(struct coild *d, const struct cni_rpc_request *req, struct cni_rpc_response *resp)
{
	char err[ERRLEN] = "";
	const char *what;
	if (d->cfg.egress_only) /* the chained plugin owns the pod network; NAT dies with it */
		return;
	if (remove_attachment(d, req->container_id, req->ifname, &what, err, sizeof(err)) < 0)
		coild_fail(resp, CNI_ERR_INTERNAL, what, err);
}

void coild_check(struct coild *d, const struct cni_rpc_request *req, struct cni_rpc_response *resp)
{
	char err[ERRLEN] = "";
	if (d->cfg.egress_only)
		return coild_check_chained(d, req, resp);
	if (podnet_check(d->podnet, req->container_id, req->ifname, err, sizeof(err)) < 0)
		coild_fail(resp, CNI_ERR_INTERNAL, "check failed", "not found");
}

void coild_status(struct coild *d, const struct cni_rpc_request *req, struct cni_rpc_response *resp)
{
	const char *pool = d->cfg.default_pool;
	if (d->cfg.egress_only) /* no addresses to run out of */
		return;
	int ready = node_ipam_pool_ready(d->ipam, pool);
	if (ready == 0 && coild_reaper_flush(d->reaper)) /* as an ADD would wait for them */
		ready = node_ipam_pool_ready(d->ipam, pool);
	if (ready == 1)
		return;
	char details[NODE_NAME_MAX + 64];
	snprintf(details, sizeof(details),
		 ready == 0 ? "pool %s has no free address and cannot get a new block"
			    : "cannot tell whether pool %s has free addresses",
		 pool);
	coild_fail(resp, CNI_ERR_PLUGIN_NOT_AVAILABLE, "The plugin is not available", details);
}

static bool attachment_valid(const struct cni_rpc_request *req, const char *id, const char *ifn)
{
	for (size_t i = 0; i < req->n_valid_attachments; i++) {
		const struct cni_attachment *a = &req->valid_attachments[i];
		if (strcmp(a->container_id, id) == 0 && strcmp(a->ifname, ifn) == 0)
			return true;
	}
	return false;
}

/* CNI GC: first the pod networks of attachments that are not valid any more, then their
 * addresses (including allocations whose setup never finished, e.g. after a crash). */
static int gc_pod_networks(struct coild *d, const struct cni_rpc_request *req, char *err,
			   size_t errlen)
{
	struct podnet_entry *pods = NULL;
	size_t n = 0;
	int first = podnet_list(d->podnet, &pods, &n, err, errlen);
	for (size_t i = 0; first == 0 && i < n; i++) {
		if (attachment_valid(req, pods[i].container_id, pods[i].ifname))
			continue;
		log_info("gc: removing pod network", "container_id", pods[i].container_id, "ifname",
			 pods[i].ifname);
		const char *what;
		first =
		    remove_attachment(d, pods[i].container_id, pods[i].ifname, &what, err, errlen);
	}
	free(pods);
	return first;
}

struct gc_keep {
	struct coild *d;
	const struct cni_rpc_request *req;
};

/* Keeps the valid attachments; of the others, first deletes what a crash may have left in
 * the kernel without alias (gc_pod_networks saw only aliased links), and keeps the record if
 * that fails: an address is freed only when nothing in the kernel can hold it. */
static bool gc_keep_record(const struct node_ipam_record *r, void *arg)
{
	struct gc_keep *k = arg;
	char err[ERRLEN];
	if (attachment_valid(k->req, r->container_id, r->ifname) ||
	    coild_reaper_owns(k->d->reaper, r->container_id, r->ifname))
		return true; /* the reaper frees a retired pod's address */
	if (podnet_destroy_by_name(k->d->podnet, r->container_id, r->ifname, err, sizeof(err)) <
	    0) {
		log_warn("gc: keeping an address whose pod network cannot be deleted",
			 "container_id", r->container_id, "ifname", r->ifname, "error", err);
		return true;
	}
	return false;
}

void coild_gc_attachments(struct coild *d, const struct cni_rpc_request *req,
			  struct cni_rpc_response *resp)
{
	char err[ERRLEN] = "";
	if (d->cfg.egress_only) /* nothing of coil's to collect */
		return;
	if (gc_pod_networks(d, req, err, sizeof(err)) < 0)
		return coild_fail(resp, CNI_ERR_INTERNAL, "failed to destroy pod network", err);
	struct gc_keep keep = {d, req};
	if (node_ipam_gc(d->ipam, gc_keep_record, &keep, err, sizeof(err)) < 0)
		coild_fail(resp, CNI_ERR_INTERNAL, "failed to free addresses", err);
}
