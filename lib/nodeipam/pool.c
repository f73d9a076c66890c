/* The pools of the node IPAM and the blocks each one owns. */
#include "nodeipam/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"

struct nipam_pool *pools_get(struct node_ipam *ipam, const char *name, bool create,
			     bool caller_holds_pools_lock)
{
	if (!caller_holds_pools_lock)
		pthread_mutex_lock(&ipam->pools_lock);
	struct nipam_pool *pool = ipam->pools, **tail = &ipam->pools;
	for (; pool; tail = &pool->next, pool = pool->next) {
		if (strcmp(pool->name, name) == 0)
			break;
	}
	if (!pool && create) {
		pool = calloc(1, sizeof(*pool));
		if (pool) {
			snprintf(pool->name, sizeof(pool->name), "%s", name);
			pthread_mutex_init(&pool->lock, NULL);
			atomic_init(&pool->nonfull_blocks, 0);
			*tail = pool;
		}
	}
	if (!caller_holds_pools_lock)
		pthread_mutex_unlock(&ipam->pools_lock);
	return pool;
}

void pools_destroy(struct node_ipam *ipam)
{
	struct nipam_pool *pool = ipam->pools;
	while (pool) {
		struct nipam_pool *next = pool->next;
		for (size_t i = 0; i < pool->n_blocks; i++)
			block_alloc_destroy(pool->blocks[i].alloc);
		free(pool->blocks);
		pthread_mutex_destroy(&pool->lock);
		free(pool);
		pool = next;
	}
	ipam->pools = NULL;
}

struct nipam_block *pool_find_block(struct nipam_pool *pool, const char *name)
{
	for (size_t i = 0; i < pool->n_blocks; i++) {
		if (strcmp(pool->blocks[i].info.name, name) == 0)
			return &pool->blocks[i];
	}
	return NULL;
}

struct nipam_block *pool_first_nonfull(struct nipam_pool *pool)
{
	for (size_t i = 0; i < pool->n_blocks; i++) {
		if (!block_alloc_is_full(pool->blocks[i].alloc))
			return &pool->blocks[i];
	}
	return NULL;
}

void pool_update_nonfull(struct nipam_pool *pool)
{
	int count = 0;
	for (size_t i = 0; i < pool->n_blocks; i++)
		count += !block_alloc_is_full(pool->blocks[i].alloc);
	atomic_store(&pool->nonfull_blocks, count);
}

static int owned_add(struct node_ipam *ipam, const struct node_block *info)
{
	int ret = 0;
	pthread_mutex_lock(&ipam->owned_lock);
	if (ipam->n_owned == ipam->cap_owned) {
		size_t cap = ipam->cap_owned ? 2 * ipam->cap_owned : 8;
		struct node_block *grown = realloc(ipam->owned, cap * sizeof(*grown));
		if (grown) {
			ipam->owned = grown;
			ipam->cap_owned = cap;
		} else {
			ret = -ENOMEM;
		}
	}
	if (ret == 0)
		ipam->owned[ipam->n_owned++] = *info;
	pthread_mutex_unlock(&ipam->owned_lock);
	return ret;
}

static void owned_remove(struct node_ipam *ipam, const char *name)
{
	pthread_mutex_lock(&ipam->owned_lock);
	for (size_t i = 0; i < ipam->n_owned; i++) {
		if (strcmp(ipam->owned[i].name, name) == 0) {
			memmove(&ipam->owned[i], &ipam->owned[i + 1],
				(ipam->n_owned - i - 1) * sizeof(ipam->owned[0]));
			ipam->n_owned--;
			break;
		}
	}
	pthread_mutex_unlock(&ipam->owned_lock);
}

/* Makes room and returns the slot where a block of `index` keeps the
 * array sorted. */
static struct nipam_block *insert_slot(struct nipam_pool *pool, uint32_t index)
{
	if (pool->n_blocks == pool->cap_blocks) {
		size_t cap = pool->cap_blocks ? 2 * pool->cap_blocks : 4;
		struct nipam_block *grown = realloc(pool->blocks, cap * sizeof(*grown));
		if (!grown)
			return NULL;
		pool->blocks = grown;
		pool->cap_blocks = cap;
	}
	size_t at = pool->n_blocks;
	while (at > 0 && pool->blocks[at - 1].info.index > index)
		at--;
	memmove(&pool->blocks[at + 1], &pool->blocks[at],
		(pool->n_blocks - at) * sizeof(pool->blocks[0]));
	pool->n_blocks++;
	return &pool->blocks[at];
}

struct nipam_block *pool_add_block(struct node_ipam *ipam, struct nipam_pool *pool,
				   const struct node_block *info, char *err, size_t errlen)
{
	if (info->name[0] == '\0' || pool_find_block(pool, info->name)) {
		snprintf(err, errlen, "block %s of pool %s: empty or duplicate name", info->name,
			 pool->name);
		return NULL;
	}
	struct block_alloc *alloc;
	char why[160];
	int ret = block_alloc_new(info->ipv4, info->ipv6, &alloc, why, sizeof(why));
	if (ret < 0) {
		snprintf(err, errlen, "block %s of pool %s: %s", info->name, pool->name, why);
		return NULL;
	}
	if (info->reserved)
		block_alloc_fill(alloc);
	if (owned_add(ipam, info) < 0) {
		block_alloc_destroy(alloc);
		snprintf(err, errlen, "block %s of pool %s: out of memory", info->name, pool->name);
		return NULL;
	}
	struct nipam_block *block = insert_slot(pool, info->index);
	if (!block) {
		owned_remove(ipam, info->name);
		block_alloc_destroy(alloc);
		snprintf(err, errlen, "block %s of pool %s: out of memory", info->name, pool->name);
		return NULL;
	}
	*block = (struct nipam_block){.info = *info, .alloc = alloc}; /* the slot is realloc'ed */
	snprintf(block->info.pool, sizeof(block->info.pool), "%s", pool->name);
	records_mark_block(ipam, block);
	pool_update_nonfull(pool);
	pool->changed = true;
	log_info("using address block", "pool", pool->name, "block", info->name, "ipv4", info->ipv4,
		 "ipv6", info->ipv6);
	return block;
}

void pool_remove_block(struct node_ipam *ipam, struct nipam_pool *pool, struct nipam_block *block)
{
	owned_remove(ipam, block->info.name);
	block_alloc_destroy(block->alloc);
	size_t at = (size_t)(block - pool->blocks);
	memmove(&pool->blocks[at], &pool->blocks[at + 1],
		(pool->n_blocks - at - 1) * sizeof(pool->blocks[0]));
	pool->n_blocks--;
	pool_update_nonfull(pool);
	pool->changed = true;
}

bool pool_take_changed(struct nipam_pool *pool)
{
	bool changed = pool->changed;
	pool->changed = false;
	return changed;
}
