/* What coil-ipam-controller keeps of AddressBlocks and Nodes in its informer caches (compact
 * items instead of JSON trees), and one way to read blocks whether a cache is at hand or not.
 *
 * A cached block costs about 150 bytes instead of the 4.5 KB of its JSON tree; a cached Node
 * costs only its key (the item is a shared marker). */
#ifndef COIL_IPAMCTL_BLOCKCACHE_H
#define COIL_IPAMCTL_BLOCKCACHE_H

#include <stdint.h>

#include "kube/kube.h"

/* What the controller needs of one AddressBlock. Strings live in the same allocation. */
struct ipamctl_block_item {
	int64_t index;			   /* -1 when not an integer in 0..2147483647 */
	const char *pool, *node, *request; /* the labels; NULL when absent */
	const char *owner_pool;		   /* the controller-owner AddressPool; NULL if none */
};

/* Block caches are indexed by the pool label and by the request label. */
#define IPAMCTL_INDEX_POOL    "pool"
#define IPAMCTL_INDEX_REQUEST "request"

/* Codecs of the two informers (static; decode never keeps the object). */
extern const struct kube_informer_codec IPAMCTL_BLOCK_CODEC, IPAMCTL_NODE_CODEC;

/* Adds the pool and request indexes to a block informer made with IPAMCTL_BLOCK_CODEC. */
int ipamctl_block_cache_indexes(struct kube_informer *blocks);

/* Calls fn(arg, name, item) for every AddressBlock whose `label` index (IPAMCTL_INDEX_*, or NULL
 * for all blocks) is value: from the cache (its lock held during the calls, see
 * kube_informer_visit) or, with cache NULL, from a direct list decoded page by page. *count (may
 * be NULL) gets the number of calls. */
int ipamctl_blocks_visit(struct kube_client *client, struct kube_informer *cache, const char *index,
			 const char *value, kube_visit_fn fn, void *arg, long *count, char *err,
			 size_t errlen);

#endif
