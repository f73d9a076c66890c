/* Reconciling with the block source (sync, GC) and the daemon's queries. */
#include "nodeipam/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"

/* Every pool, as a malloc'd array (pools are never freed before destroy). */
static int pools_snapshot(struct node_ipam *ipam, struct nipam_pool ***out, size_t *n,
			  bool caller_holds_pools_lock)
{
	if (!caller_holds_pools_lock)
		pthread_mutex_lock(&ipam->pools_lock);
	size_t count = 0;
	for (struct nipam_pool *p = ipam->pools; p; p = p->next)
		count++;
	*out = calloc(count ? count : 1, sizeof(**out));
	*n = 0;
	for (struct nipam_pool *p = ipam->pools; *out && p; p = p->next)
		(*out)[(*n)++] = p;
	if (!caller_holds_pools_lock)
		pthread_mutex_unlock(&ipam->pools_lock);
	return *out ? 0 : -ENOMEM;
}

static bool listed(const struct node_block *blocks, size_t n, const struct nipam_pool *pool,
		   const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(blocks[i].pool, pool->name) == 0 && strcmp(blocks[i].name, name) == 0)
			return true;
	}
	return false;
}

/* With pool->lock held: forget vanished blocks, add new ones. */
static void reconcile_pool(struct node_ipam *ipam, struct nipam_pool *pool,
			   const struct node_block *blocks, size_t n)
{
	for (size_t i = pool->n_blocks; i-- > 0;) {
		struct nipam_block *block = &pool->blocks[i];
		if (listed(blocks, n, pool, block->info.name))
			continue;
		log_warn("forgetting address block that the source no longer lists", "pool",
			 pool->name, "block", block->info.name);
		pool_remove_block(ipam, pool, block);
	}
	for (size_t i = 0; i < n; i++) {
		char why[256];
		if (strcmp(blocks[i].pool, pool->name) != 0 ||
		    pool_find_block(pool, blocks[i].name))
			continue;
		if (!pool_add_block(ipam, pool, &blocks[i], why, sizeof(why)))
			log_warn("ignoring unusable address block", "error", why);
	}
}

/* Creates (already locked) the pools of listed blocks not known yet. With
 * pools_lock held nobody else can reach a pool created here. */
static int add_listed_pools(struct node_ipam *ipam, const struct node_block *blocks, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (pools_get(ipam, blocks[i].pool, false, true))
			continue;
		struct nipam_pool *pool = pools_get(ipam, blocks[i].pool, true, true);
		if (!pool)
			return -ENOMEM;
		pthread_mutex_lock(&pool->lock);
	}
	return 0;
}

int sync_blocks(struct node_ipam *ipam, bool *changed, char *err, size_t errlen)
{
	/* One consistent snapshot: hold every pool lock around list(), so no
	 * acquire or release slips between the list and the reconciliation.
	 * While pools_lock is held the pool list cannot change under us, and
	 * add_listed_pools locks each pool it creates: at the end every pool
	 * of the list is locked by us. */
	*changed = false;
	pthread_mutex_lock(&ipam->pools_lock);
	for (struct nipam_pool *p = ipam->pools; p; p = p->next)
		pthread_mutex_lock(&p->lock);

	struct node_block *blocks = NULL;
	size_t n = 0;
	int ret = ipam->source.ops->list(ipam->source.ctx, &blocks, &n, err, errlen);
	if (ret == 0 && (ret = add_listed_pools(ipam, blocks, n)) < 0)
		snprintf(err, errlen, "out of memory");
	for (struct nipam_pool *p = ipam->pools; p; p = p->next) {
		if (ret == 0)
			reconcile_pool(ipam, p, blocks, n);
		*changed |= pool_take_changed(p);
		pthread_mutex_unlock(&p->lock);
	}
	pthread_mutex_unlock(&ipam->pools_lock);
	free(blocks);
	return ret;
}

int node_ipam_sync(struct node_ipam *ipam, char *err, size_t errlen)
{
	bool changed;
	int ret = sync_blocks(ipam, &changed, err, errlen);
	if (changed)
		notify_blocks_changed(ipam);
	return ret;
}

/* Frees the records keep() rejects; returns the first error. */
static int gc_records(struct node_ipam *ipam, node_ipam_keep_fn keep, void *arg, char *err,
		      size_t errlen)
{
	struct node_ipam_record *records;
	size_t n;
	int first = records_snapshot(ipam, &records, &n);
	if (first < 0)
		snprintf(err, errlen, "out of memory");
	for (size_t i = 0; i < n; i++) {
		if (keep(&records[i], arg))
			continue;
		char why[512];
		int ret = node_ipam_free(ipam, records[i].container_id, records[i].ifname, why,
					 sizeof(why));
		if (ret < 0 && first == 0) {
			first = ret;
			snprintf(err, errlen, "%s", why);
		}
	}
	free(records);
	return first;
}

/* Releases the empty, non-reserved blocks of one pool; first error or 0. */
static int release_empty_blocks(struct node_ipam *ipam, struct nipam_pool *pool, char *err,
				size_t errlen)
{
	int first = 0;
	pthread_mutex_lock(&pool->lock);
	for (size_t i = pool->n_blocks; i-- > 0;) {
		struct nipam_block *block = &pool->blocks[i];
		if (block->info.reserved || !block_alloc_is_empty(block->alloc) ||
		    block_in_grace(ipam, block))
			continue;
		char why[256] = "";
		int ret =
		    ipam->source.ops->release(ipam->source.ctx, &block->info, why, sizeof(why));
		if (ret < 0) {
			if (first == 0)
				snprintf(err, errlen, "failed to free block %s: %s",
					 block->info.name, why);
			first = first ? first : ret;
			continue;
		}
		log_info("released unused address block", "pool", pool->name, "block",
			 block->info.name);
		pool_remove_block(ipam, pool, block);
	}
	pool_take_changed(pool); /* node_ipam_gc notifies once for all pools */
	pthread_mutex_unlock(&pool->lock);
	return first;
}

int node_ipam_gc(struct node_ipam *ipam, node_ipam_keep_fn keep, void *arg, char *err,
		 size_t errlen)
{
	int first = keep ? gc_records(ipam, keep, arg, err, errlen) : 0;
	bool changed;
	char why[512];
	int ret = sync_blocks(ipam, &changed, why, sizeof(why));
	if (ret < 0) {
		if (first == 0)
			snprintf(err, errlen, "%s", why);
		return first ? first : ret;
	}
	struct nipam_pool **pools;
	size_t n_pools;
	ret = pools_snapshot(ipam, &pools, &n_pools, false);
	for (size_t i = 0; ret == 0 && i < n_pools; i++) {
		int released = release_empty_blocks(ipam, pools[i], why, sizeof(why));
		if (released < 0 && first == 0) {
			first = released;
			snprintf(err, errlen, "%s", why);
		}
	}
	free(pools);
	/* Upstream re-exports routes after every GC. */
	notify_blocks_changed(ipam);
	return first ? first : ret;
}

struct valid_keys {
	const struct node_ipam_key *keys;
	size_t n;
};

static bool is_valid_key(const struct node_ipam_record *record, void *arg)
{
	const struct valid_keys *valid = arg;
	for (size_t i = 0; i < valid->n; i++) {
		if (strcmp(valid->keys[i].container_id, record->container_id) == 0 &&
		    strcmp(valid->keys[i].ifname, record->ifname) == 0)
			return true;
	}
	return false;
}

int node_ipam_gc_attachments(struct node_ipam *ipam, const struct node_ipam_key *valid,
			     size_t n_valid, char *err, size_t errlen)
{
	struct valid_keys keys = {valid, n_valid};
	return node_ipam_gc(ipam, is_valid_key, &keys, err, errlen);
}

int node_ipam_list_records(struct node_ipam *ipam, struct node_ipam_record **out, size_t *n)
{
	return records_snapshot(ipam, out, n);
}

int node_ipam_pool_ready(struct node_ipam *ipam, const char *pool_name)
{
	struct nipam_pool *pool = pools_get(ipam, pool_name, false, false);
	if (pool && atomic_load(&pool->nonfull_blocks) > 0)
		return 1;
	if (!ipam->source.ops->can_acquire)
		return 1;
	return ipam->source.ops->can_acquire(ipam->source.ctx, pool_name);
}

int node_ipam_owned_cidrs(struct node_ipam *ipam, struct node_ipam_cidr **out, size_t *n)
{
	int ret = 0;
	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&ipam->owned_lock);
	if (ipam->n_owned > 0) {
		*out = calloc(2 * ipam->n_owned, sizeof(**out));
		ret = *out ? 0 : -ENOMEM;
	}
	for (size_t i = 0; ret == 0 && i < ipam->n_owned; i++) {
		const struct node_block *b = &ipam->owned[i];
		if (b->ipv4[0])
			snprintf((*out)[(*n)++].text, NODE_CIDR_MAX, "%s", b->ipv4);
		if (b->ipv6[0])
			snprintf((*out)[(*n)++].text, NODE_CIDR_MAX, "%s", b->ipv6);
	}
	pthread_mutex_unlock(&ipam->owned_lock);
	return ret;
}
