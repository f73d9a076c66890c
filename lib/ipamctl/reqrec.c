/* The BlockRequest reconciler: answers each new request exactly once, with a block or
 * with the out-of-blocks failure, written through the status subresource. */
#include "ipamctl.h"
#include "err/err.h"
#include "log/log.h"
#include "blockcache.h"
#include "objects.h"

#include <stdio.h>
#include <string.h>

/* Replaces request's status (conditional on its resourceVersion). Takes status. */
static int write_status(struct kube_client *client, json_t *request, json_t *status, char *err,
			size_t errlen)
{
	if (!status) {
		snprintf(err, errlen, "BlockRequest %s: out of memory", kube_obj_name(request));
		return -ENOMEM;
	}
	json_object_set_new(request, "status", status);
	return kube_update_sub(client, &COILAPI_RES_BLOCKREQUESTS, request, "status", NULL, err,
			       errlen);
}

static void copy_name(void *arg, const char *name, const void *item)
{
	if (!*(char *)arg)
		snprintf(arg, IPAMCTL_BLOCK_NAME_MAX, "%s", name);
}

/* The name of a block already carved for this request UID ("" if none), so that a retry after
 * a failed status write never carves a second block: from the cache, or a direct list when
 * the cache may not have seen a block this controller carved a moment ago. */
static int find_carved_block(struct kube_client *client, struct kube_informer *blocks,
			     bool retrying, const char *uid, char *name, char *err, size_t errlen)
{
	name[0] = '\0';
	int ret = ipamctl_blocks_visit(client, blocks, IPAMCTL_INDEX_REQUEST, uid, copy_name, name,
				       NULL, err, errlen);
	if (ret == 0 && !name[0] && blocks && retrying)
		ret = ipamctl_blocks_visit(client, NULL, IPAMCTL_INDEX_REQUEST, uid, copy_name,
					   name, NULL, err, errlen);
	return ret;
}

/* Where carved blocks are looked up (see find_carved_block). */
struct block_lookup {
	struct kube_informer *blocks;
	bool retrying;
};

static int answer(struct kube_client *client, const struct ipamctl_pools *pools,
		  const struct block_lookup *lookup, json_t *request,
		  const struct coilapi_request *req, char *err, size_t errlen)
{
	const char *uid = req->uid, *pool = req->pool_name, *node = req->node_name;
	char block[IPAMCTL_BLOCK_NAME_MAX];
	struct timespec now;
	if (!*uid || !req->has_spec)
		return errorf(err, errlen, -EINVAL, "BlockRequest %s: no uid or no spec",
			      req->name);
	int ret =
	    find_carved_block(client, lookup->blocks, lookup->retrying, uid, block, err, errlen);
	if (ret == 0 && !block[0])
		ret = pools->allocate(pools->arg, pool, node, uid, block, err, errlen);
	clock_gettime(CLOCK_REALTIME, &now);
	if (ret == IPAMCTL_ERR_NO_BLOCK) {
		log_warn("no free block", "request", kube_obj_name(request), "pool", pool, "error",
			 err);
		return write_status(client, request, ipamctl_status_out_of_blocks(pool, &now), err,
				    errlen);
	}
	if (ret)
		return ret;
	return write_status(client, request, ipamctl_status_allocated(block, &now), err, errlen);
}

/* The request from the cache, or from the API server when there is no cache or it has not
 * seen the request. */
static int read_request(struct kube_client *client, struct kube_informer *requests,
			const char *name, json_t **request, char *err, size_t errlen)
{
	if (requests && (*request = kube_informer_get(requests, NULL, name)))
		return 0;
	return kube_get(client, &COILAPI_RES_BLOCKREQUESTS, NULL, name, request, err, errlen);
}

int ipamctl_reconcile_request(struct kube_client *client, const struct ipamctl_pools *pools,
			      const struct ipamctl_caches *caches, bool retrying, const char *name,
			      char *err, size_t errlen)
{
	struct block_lookup lookup = {.blocks = caches ? caches->blocks : NULL,
				      .retrying = retrying};
	json_t *request = NULL;
	int ret =
	    read_request(client, caches ? caches->requests : NULL, name, &request, err, errlen);
	if (ret == -ENOENT)
		return 0;
	struct coilapi_request req;
	char why[256];
	if (ret == 0 && coilapi_request_decode(request, &req, why, sizeof(why)) < 0) {
		ret = errorf(err, errlen, -EINVAL, "BlockRequest %s: %s", name, why);
	} else if (ret == 0) {
		/* Only a request without conditions is new; one with any was answered before. */
		if (req.n_conditions == 0)
			ret = answer(client, pools, &lookup, request, &req, err, errlen);
		coilapi_request_clear(&req);
	}
	json_decref(request);
	return ret;
}
