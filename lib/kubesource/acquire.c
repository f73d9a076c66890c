/* acquire(): a new block through a BlockRequest (docs/behaviour/daemon.md, 'Getting a block').
 * The node IPAM holds the pool's lock around this call, so one request per pool and node is
 * in flight, which the shared name req-<pool>-<node> requires. */
#include "kubesource/internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log/log.h"

#define POLL_SLICE_MS 1000 /* a direct look at the request if the watch stays silent */

/* The request for a block of pool, owned by this node's Node object so that Kubernetes
 * collects it when the node goes. */
static json_t *request_object(const struct kubesource *ks, const char *name, const char *pool)
{
	struct coilapi_request req = {
	    .name = name, .has_spec = true, .node_name = ks->node, .pool_name = pool};
	json_t *obj = coilapi_request_encode(&req);
	json_t *owners = json_pack("[{s:s,s:s,s:s,s:s}]", "apiVersion", "v1", "kind", "Node",
				   "name", ks->node, "uid", ks->node_uid);
	if (!obj || !owners ||
	    json_object_set_new(json_object_get(obj, "metadata"), "ownerReferences", owners) < 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

/* The previous request of this name, answered or not, makes way for the new one. */
static int delete_previous(struct kubesource *ks, const char *name, char *err, size_t errlen)
{
	char why[512];
	int ret =
	    kube_delete(ks->fast, &COILAPI_RES_BLOCKREQUESTS, NULL, name, NULL, why, sizeof(why));
	if (ret == 0 || ret == -ENOENT)
		return 0;
	snprintf(err, errlen, "failed to delete existing BlockRequest: %s", why);
	return api_errno(ret);
}

/* Creates the request; its UID goes to uid. A retried POST whose first try went through
 * answers AlreadyExists: then the object of that name is ours if it is for this node. */
static int create_request(struct kubesource *ks, const char *name, const char *pool, char *uid,
			  char *err, size_t errlen)
{
	json_t *obj = request_object(ks, name, pool), *created = NULL;
	char why[512] = "out of memory";
	int ret = obj ? kube_create(ks->fast, &COILAPI_RES_BLOCKREQUESTS, NULL, obj, &created, why,
				    sizeof(why))
		      : -ENOMEM;
	if (ret == -EEXIST)
		ret = kube_get(ks->fast, &COILAPI_RES_BLOCKREQUESTS, NULL, name, &created, why,
			       sizeof(why));
	json_decref(obj);
	struct request_result r;
	if (ret == 0 && (request_result_parse(created, &r) < 0 || strcmp(r.node, ks->node) != 0 ||
			 strcmp(r.pool, pool) != 0)) {
		snprintf(why, sizeof(why), "BlockRequest %s is not ours", name);
		ret = -EPROTO;
	}
	json_decref(created);
	if (ret < 0) {
		snprintf(err, errlen, "failed to create BlockRequest: %s", why);
		return api_errno(ret);
	}
	memcpy(uid, r.uid, sizeof(r.uid));
	return 0;
}

/* A direct GET of the request: 0 when it is finished (*out filled), 1 when not yet (or it
 * is another incarnation), -EAGAIN when the API server cannot be reached. */
static int poll_request(struct kubesource *ks, const char *name, const char *uid,
			struct request_result *out)
{
	json_t *obj = NULL;
	char why[512];
	int ret =
	    kube_get(ks->fast, &COILAPI_RES_BLOCKREQUESTS, NULL, name, &obj, why, sizeof(why));
	if (ret < 0)
		return api_errno(ret) == -EAGAIN ? -EAGAIN : 1;
	ret = request_result_parse(obj, out) == 0 && strcmp(out->uid, uid) == 0 &&
		      out->state != REQUEST_IN_PROGRESS
		  ? 0
		  : 1;
	json_decref(obj);
	return ret;
}

/* Waits for the watcher (or a poll) to see request uid finished, until the deadline. */
static int wait_result(struct kubesource *ks, const char *name, const char *uid, long deadline,
		       struct request_result *out, char *err, size_t errlen)
{
	for (;;) {
		long now = wake_now_ms();
		if (now >= deadline)
			break;
		long until = now + POLL_SLICE_MS < deadline ? now + POLL_SLICE_MS : deadline;
		if (latch_wait(&ks->latch, uid, until, out) == 0)
			return 0;
		if (wake_now_ms() >= deadline)
			break;
		int ret = poll_request(ks, name, uid, out);
		if (ret == 0)
			return 0;
		if (ret < 0) {
			snprintf(err, errlen, "waiting for BlockRequest %s: API server unreachable",
				 name);
			return ret;
		}
	}
	snprintf(err, errlen,
		 "aborting new block request: context deadline exceeded (no answer to "
		 "BlockRequest %s within %ld ms; is coil-ipam-controller running?); try again "
		 "later",
		 name, ks->acquire_timeout_ms);
	return -EAGAIN;
}

/* The block a finished request names, read from the API server. */
static int fetch_block(struct kubesource *ks, const char *pool, const char *block,
		       struct node_block *out, char *err, size_t errlen)
{
	json_t *obj = NULL;
	char why[512];
	int ret =
	    kube_get(ks->fast, &COILAPI_RES_ADDRESSBLOCKS, NULL, block, &obj, why, sizeof(why));
	if (ret < 0) {
		snprintf(err, errlen, "failed to get AddressBlock %s of pool %s: %s", block, pool,
			 why);
		return ret == -ENOENT ? -EPROTO : api_errno(ret);
	}
	const char *node = kube_obj_label(obj, COILAPI_LABEL_NODE);
	ret = block_parse(obj, out, err, errlen);
	if (ret == 0 && (!node || strcmp(node, ks->node) != 0)) {
		snprintf(err, errlen, "AddressBlock %s is not labeled for node %s", block,
			 ks->node);
		ret = -EPROTO;
	}
	json_decref(obj);
	return ret < 0 ? -EPROTO : 0;
}

static int failed_result(const struct request_result *r, const char *pool, char *err, size_t errlen)
{
	const char *reason = r->reason[0] ? r->reason : "block request failed";
	if (r->message[0])
		snprintf(err, errlen, "%s: %s", reason, r->message);
	else
		snprintf(err, errlen, "%s (pool %s)", reason, pool);
	return -ENOSPC;
}

int kubesource_acquire(void *ctx, const char *pool, struct node_block *out, char *err,
		       size_t errlen)
{
	struct kubesource *ks = ctx;
	char name[NODE_NAME_MAX], uid[KUBESOURCE_UID_MAX];
	if ((size_t)snprintf(name, sizeof(name), "req-%s-%s", pool, ks->node) >= sizeof(name)) {
		snprintf(err, errlen, "BlockRequest name for pool %.64s is too long", pool);
		return -ENAMETOOLONG;
	}
	long deadline = wake_now_ms() + ks->acquire_timeout_ms;
	int ret = delete_previous(ks, name, err, errlen);
	if (ret == 0)
		ret = create_request(ks, name, pool, uid, err, errlen);
	if (ret < 0)
		return ret;
	log_info("kubesource: requested a block", "pool", pool, "request", name, "uid", uid);
	struct request_result r;
	ret = wait_result(ks, name, uid, deadline, &r, err, errlen);
	if (ret < 0)
		return ret;
	if (r.state == REQUEST_FAILED)
		return failed_result(&r, pool, err, errlen);
	if (!r.block[0]) {
		snprintf(err, errlen, "BlockRequest %s completed without a block name", name);
		return -EPROTO;
	}
	ret = fetch_block(ks, pool, r.block, out, err, errlen);
	if (ret == 0)
		log_info("kubesource: acquired a block", "block", out->name, "ipv4", out->ipv4,
			 "ipv6", out->ipv6);
	return ret;
}
