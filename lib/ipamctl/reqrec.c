/* The BlockRequest reconciler: answers each new request exactly once, with a block or
 * with the out-of-blocks failure, written through the status subresource. */
#include "ipamctl.h"
#include "err/err.h"
#include "log/log.h"
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

/* The name of a block already carved for this request UID ("" if none), from a direct list
 * so that a retry after a failed status write never carves a second block. */
static int find_carved_block(struct kube_client *client, const char *uid, char *name, char *err,
			     size_t errlen)
{
	char selector[300];
	json_t *blocks = NULL;
	snprintf(selector, sizeof(selector), "%s=%s", COILAPI_LABEL_REQUEST, uid);
	struct kube_list_opts opts = {.label_selector = selector};
	int ret = kube_list_all(client, &COILAPI_RES_ADDRESSBLOCKS, NULL, &opts, &blocks, NULL, 0,
				err, errlen);
	name[0] = '\0';
	if (ret == 0 && json_array_size(blocks) > 0)
		snprintf(name, IPAMCTL_BLOCK_NAME_MAX, "%s",
			 kube_obj_name(json_array_get(blocks, 0)));
	json_decref(blocks);
	return ret;
}

static int answer(struct kube_client *client, const struct ipamctl_pools *pools, json_t *request,
		  const struct coilapi_request *req, char *err, size_t errlen)
{
	const char *uid = req->uid, *pool = req->pool_name, *node = req->node_name;
	char block[IPAMCTL_BLOCK_NAME_MAX];
	struct timespec now;
	if (!*uid || !req->has_spec)
		return errorf(err, errlen, -EINVAL, "BlockRequest %s: no uid or no spec",
			      req->name);
	int ret = find_carved_block(client, uid, block, err, errlen);
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

int ipamctl_reconcile_request(struct kube_client *client, const struct ipamctl_pools *pools,
			      const char *name, char *err, size_t errlen)
{
	json_t *request = NULL;
	int ret = kube_get(client, &COILAPI_RES_BLOCKREQUESTS, NULL, name, &request, err, errlen);
	if (ret == -ENOENT)
		return 0;
	struct coilapi_request req;
	char why[256];
	if (ret == 0 && coilapi_request_decode(request, &req, why, sizeof(why)) < 0) {
		ret = errorf(err, errlen, -EINVAL, "BlockRequest %s: %s", name, why);
	} else if (ret == 0) {
		/* Only a request without conditions is new; one with any was answered before. */
		if (req.n_conditions == 0)
			ret = answer(client, pools, request, &req, err, errlen);
		coilapi_request_clear(&req);
	}
	json_decref(request);
	return ret;
}
