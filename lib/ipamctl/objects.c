/* Reading AddressPools and building AddressBlocks and BlockRequest statuses. */
#include "objects.h"
#include "ipamctl.h"
#include "kube/kube.h"
#include "coilapi/coilapi.h"
#include "err/err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ipamctl_pool_decode(const json_t *obj, struct coilapi_pool *out, char *err, size_t errlen)
{
	char why[256];
	int ret = coilapi_pool_decode(obj, out, why, sizeof(why));
	const char *name = kube_obj_name(obj);
	return ret ? errorf(err, errlen, ret, "AddressPool %s: %s", name ? name : "(unnamed)", why)
		   : 0;
}

bool ipamctl_being_deleted(const json_t *obj)
{
	const json_t *ts = kube_json_path(obj, "metadata.deletionTimestamp");
	return ts && !json_is_null(ts);
}

bool ipamctl_has_finalizer(const json_t *obj, const char *finalizer)
{
	const json_t *list = kube_json_path(obj, "metadata.finalizers");
	size_t i;
	const json_t *item;
	json_array_foreach(list, i, item)
	{
		if (json_is_string(item) && strcmp(json_string_value(item), finalizer) == 0)
			return true;
	}
	return false;
}

bool ipamctl_remove_finalizer(json_t *obj, const char *finalizer)
{
	json_t *list = kube_json_path(obj, "metadata.finalizers");
	bool removed = false;
	for (size_t i = 0; i < json_array_size(list);) {
		const char *item = json_string_value(json_array_get(list, i));
		if (item && strcmp(item, finalizer) == 0) {
			json_array_remove(list, i);
			removed = true;
		} else {
			i++;
		}
	}
	return removed;
}

bool ipamctl_block_name(char *buf, size_t len, const char *pool, uint32_t index)
{
	int n = snprintf(buf, len, "%s-%u", pool, index);
	return n >= 0 && (size_t)n < len;
}

json_t *ipamctl_block_build(const json_t *pool, uint32_t index,
			    const struct ipam_block_cidrs *cidrs, const char *node,
			    const char *request_uid)
{
	const char *pool_name = kube_obj_name(pool);
	char name[IPAMCTL_BLOCK_NAME_MAX];
	if (!pool_name || !kube_obj_uid(pool) || !node || !request_uid)
		return NULL;
	if (!ipamctl_block_name(name, sizeof(name), pool_name, index))
		return NULL;
	struct coilapi_block desc = {
	    .name = name,
	    .pool = pool_name,
	    .node = node,
	    .request = request_uid,
	    .index = index,
	    .ipv4 = cidrs->ipv4[0] ? cidrs->ipv4 : NULL,
	    .ipv6 = cidrs->ipv6[0] ? cidrs->ipv6 : NULL,
	};
	json_t *block = coilapi_block_encode(&desc);
	json_t *meta = json_object_get(block, "metadata");
	/* The finalizer holds the block until its node released it; the controller reference
	 * lets Kubernetes collect the blocks of a deleted pool. */
	if (!meta || json_object_set_new(meta, "finalizers", json_pack("[s]", COILAPI_FINALIZER)) ||
	    json_object_set_new(meta, "ownerReferences",
				coilapi_controller_refs(COILAPI_KIND_ADDRESSPOOL, pool))) {
		json_decref(block);
		return NULL;
	}
	return block;
}

/* A status of one or two conditions, all True and stamped now. */
static json_t *status(const char *block_name, const struct coilapi_condition *conds, size_t n)
{
	struct coilapi_request req = {.block_name = block_name,
				      .conditions = (struct coilapi_condition *)conds,
				      .n_conditions = n};
	return coilapi_request_status_encode(&req);
}

json_t *ipamctl_status_allocated(const char *block_name, const struct timespec *now)
{
	char when[KUBE_TIME_LEN], message[IPAMCTL_BLOCK_NAME_MAX + 32];
	kube_time_format(now, when);
	snprintf(message, sizeof(message), "allocated a block %s", block_name);
	struct coilapi_condition done = {"Complete", "True", "allocated", message, when, when};
	return status(block_name, &done, 1);
}

json_t *ipamctl_status_out_of_blocks(const char *pool_name, const struct timespec *now)
{
	char when[KUBE_TIME_LEN], message[512];
	kube_time_format(now, when);
	snprintf(message, sizeof(message), "pool %s does not have free blocks", pool_name);
	struct coilapi_condition conds[] = {
	    {"Complete", "True", "completed with failure", "completed with failure", when, when},
	    {"Failed", "True", "out of blocks", message, when, when},
	};
	return status(NULL, conds, 2);
}

size_t ipamctl_condition_count(const json_t *request)
{
	return json_array_size(kube_json_path(request, "status.conditions"));
}

const char *ipamctl_controller_pool(const json_t *obj)
{
	return coilapi_controller_owner(obj, COILAPI_KIND_ADDRESSPOOL);
}

int64_t ipamctl_block_index(const json_t *block)
{
	struct coilapi_block decoded;
	if (coilapi_block_decode(block, &decoded, NULL, 0) < 0)
		return -1;
	return decoded.index;
}
