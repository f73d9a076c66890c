/* Compact items of AddressBlocks and Nodes, and reading blocks from a cache or a direct list. */
#include "blockcache.h"
#include "coilapi/coilapi.h"
#include "err/err.h"
#include "objects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t text_size(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

/* Copies s to *cursor (advancing it); NULL stays NULL. */
static const char *put_text(char **cursor, const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	char *dst = memcpy(*cursor, s, n);
	*cursor += n;
	return dst;
}

static void *decode_block(const json_t *obj, void *arg)
{
	const char *pool = kube_obj_label(obj, COILAPI_LABEL_POOL);
	const char *node = kube_obj_label(obj, COILAPI_LABEL_NODE);
	const char *request = kube_obj_label(obj, COILAPI_LABEL_REQUEST);
	const char *owner = ipamctl_controller_pool(obj);
	struct ipamctl_block_item *item = malloc(sizeof(*item) + text_size(pool) + text_size(node) +
						 text_size(request) + text_size(owner));
	if (!item)
		return NULL;
	char *cursor = (char *)(item + 1);
	item->index = ipamctl_block_index(obj);
	item->pool = put_text(&cursor, pool);
	item->node = put_text(&cursor, node);
	item->request = put_text(&cursor, request);
	item->owner_pool = put_text(&cursor, owner);
	return item;
}

/* A Node is only looked up by name, which the cache key already is. */
static const char node_present = 1;

static void *decode_node(const json_t *obj, void *arg)
{
	return (void *)&node_present;
}

const struct kube_informer_codec IPAMCTL_BLOCK_CODEC = {.decode = decode_block, .free = free};
const struct kube_informer_codec IPAMCTL_NODE_CODEC = {.decode = decode_node};

static char *pool_of(const void *item, void *arg)
{
	const struct ipamctl_block_item *block = item;
	return block->pool ? strdup(block->pool) : NULL;
}

static char *request_of(const void *item, void *arg)
{
	const struct ipamctl_block_item *block = item;
	return block->request ? strdup(block->request) : NULL;
}

int ipamctl_block_cache_indexes(struct kube_informer *blocks)
{
	int ret = kube_informer_add_item_index(blocks, IPAMCTL_INDEX_POOL, pool_of, NULL);
	return ret ? ret
		   : kube_informer_add_item_index(blocks, IPAMCTL_INDEX_REQUEST, request_of, NULL);
}

/* A direct list handed to the visitor one decoded page at a time. */
struct direct {
	kube_visit_fn fn;
	void *arg;
	long count;
};

static int visit_page(void *arg, const json_t *items)
{
	struct direct *d = arg;
	size_t i;
	const json_t *obj;
	if (!items) /* a restarted listing: the visitor saw part of it already */
		return KUBE_ERR_GONE;
	json_array_foreach(items, i, obj)
	{
		struct ipamctl_block_item *item = decode_block(obj, NULL);
		if (!item)
			return -ENOMEM;
		d->fn(d->arg, kube_obj_name(obj) ? kube_obj_name(obj) : "", item);
		d->count++;
		free(item);
	}
	return 0;
}

static const char *label_of_index(const char *index)
{
	if (index && strcmp(index, IPAMCTL_INDEX_POOL) == 0)
		return COILAPI_LABEL_POOL;
	if (index && strcmp(index, IPAMCTL_INDEX_REQUEST) == 0)
		return COILAPI_LABEL_REQUEST;
	return NULL;
}

int ipamctl_blocks_visit(struct kube_client *client, struct kube_informer *cache, const char *index,
			 const char *value, kube_visit_fn fn, void *arg, long *count, char *err,
			 size_t errlen)
{
	if (cache) {
		long n = kube_informer_visit(cache, index, value, fn, arg);
		if (n < 0)
			return errorf(err, errlen, (int)n, "AddressBlocks: no index %s", index);
		if (count)
			*count = n;
		return 0;
	}
	char selector[300];
	const char *label = label_of_index(index);
	if (index && !label)
		return errorf(err, errlen, -ENOENT, "AddressBlocks: no index %s", index);
	if (label &&
	    snprintf(selector, sizeof(selector), "%s=%s", label, value) >= (int)sizeof(selector))
		return errorf(err, errlen, -ENAMETOOLONG, "AddressBlocks: selector too long");
	struct kube_list_opts opts = {.label_selector = label ? selector : NULL, .limit = 500};
	struct direct d = {.fn = fn, .arg = arg};
	int ret = kube_list_each(client, &COILAPI_RES_ADDRESSBLOCKS, NULL, &opts, visit_page, &d,
				 NULL, 0, err, errlen);
	if (ret == 0 && count)
		*count = d.count;
	return ret;
}
