/* The pool manager: per pool, the set of allocated block indices rebuilt from the
 * controller's AddressBlock cache (a direct list when it has none), and the carving of the lowest
 * free block. A cache that lags behind a carve only makes the next carve meet the block's name
 * taken (AlreadyExists), and that carve moves on to the next free index. One mutex per
 * pool serializes its syncs and carves; map_lock guards the list of pools. Pool states are
 * reference counted so that DropPool cannot free a state another thread is using. */
#include "blockcache.h"
#include "indexset.h"
#include "ipamctl.h"
#include "log/log.h"
#include "objects.h"
#include "err/err.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Blocks this process carved that a sync may not find in the block cache yet: the watch
 * delivers them a moment after the create. A sync keeps their indexes used (and counted)
 * until the cache has them, and asks the API server about the others (a block deleted
 * before the cache ever saw it must not hold its index). */
#define RECENT_CARVES 64

struct pool_state {
	char *name; /* owned */
	pthread_mutex_t lock;
	struct ipamctl_index_set used;	/* guarded by lock */
	uint32_t recent[RECENT_CARVES]; /* indexes, guarded by lock, oldest first */
	int nrecent;
	int refs; /* guarded by the manager's map_lock */
	struct pool_state *next;
};

struct ipamctl_pool_manager {
	struct kube_client *client;   /* borrowed */
	struct metrics *metrics;      /* borrowed, may be NULL */
	struct ipamctl_caches caches; /* only pools and blocks used; guarded by cache_lock */
	pthread_mutex_t cache_lock;   /* apart from map_lock: syncs run with map_lock held */
	pthread_mutex_t map_lock;
	struct pool_state *pools;
};

int ipamctl_metrics_declare(struct metrics *m)
{
	int ret = metrics_declare(m, IPAMCTL_METRIC_MAX_BLOCKS, METRIC_GAUGE,
				  "the maximum number of address blocks");
	if (ret && ret != -EEXIST)
		return ret;
	ret = metrics_declare(m, IPAMCTL_METRIC_ALLOCATED_BLOCKS, METRIC_GAUGE,
			      "the number of allocated address blocks");
	return ret == -EEXIST ? 0 : ret;
}

static int pool_labels(const char *pool, char *buf, size_t len)
{
	return metrics_labels(buf, len, "pool", pool, NULL);
}

static void set_gauge(struct ipamctl_pool_manager *pm, const char *metric, const char *pool,
		      double value, bool add)
{
	char labels[300];
	if (!pm->metrics || pool_labels(pool, labels, sizeof(labels)) < 0)
		return;
	if (add)
		metrics_add(pm->metrics, metric, labels, value);
	else
		metrics_set(pm->metrics, metric, labels, value);
}

static void delete_gauges(struct ipamctl_pool_manager *pm, const char *pool)
{
	char labels[300];
	if (!pm->metrics || pool_labels(pool, labels, sizeof(labels)) < 0)
		return;
	metrics_delete(pm->metrics, IPAMCTL_METRIC_MAX_BLOCKS, labels);
	metrics_delete(pm->metrics, IPAMCTL_METRIC_ALLOCATED_BLOCKS, labels);
}

int ipamctl_pool_manager_new(struct kube_client *client, struct metrics *metrics,
			     struct ipamctl_pool_manager **out, char *err, size_t errlen)
{
	struct ipamctl_pool_manager *pm = calloc(1, sizeof(*pm));
	if (!pm || (metrics && ipamctl_metrics_declare(metrics) < 0)) {
		free(pm);
		snprintf(err, errlen, "pool manager: out of memory");
		return -ENOMEM;
	}
	pm->client = client;
	pm->metrics = metrics;
	pthread_mutex_init(&pm->map_lock, NULL);
	pthread_mutex_init(&pm->cache_lock, NULL);
	*out = pm;
	return 0;
}

static void state_free(struct pool_state *state)
{
	pthread_mutex_destroy(&state->lock);
	ipamctl_index_set_free(&state->used);
	free(state->name);
	free(state);
}

static void state_put(struct ipamctl_pool_manager *pm, struct pool_state *state)
{
	pthread_mutex_lock(&pm->map_lock);
	bool last = --state->refs == 0;
	pthread_mutex_unlock(&pm->map_lock);
	if (last)
		state_free(state);
}

void ipamctl_pool_manager_free(struct ipamctl_pool_manager *pm)
{
	if (!pm)
		return;
	while (pm->pools) {
		struct pool_state *state = pm->pools;
		pm->pools = state->next;
		delete_gauges(pm, state->name);
		state_put(pm, state);
	}
	pthread_mutex_destroy(&pm->map_lock);
	pthread_mutex_destroy(&pm->cache_lock);
	free(pm);
}

void ipamctl_pool_manager_use_caches(struct ipamctl_pool_manager *pm,
				     const struct ipamctl_caches *caches)
{
	pthread_mutex_lock(&pm->cache_lock);
	pm->caches = caches ? *caches : (struct ipamctl_caches){0};
	pthread_mutex_unlock(&pm->cache_lock);
}

static struct ipamctl_caches caches_of(struct ipamctl_pool_manager *pm)
{
	pthread_mutex_lock(&pm->cache_lock);
	struct ipamctl_caches caches = pm->caches;
	pthread_mutex_unlock(&pm->cache_lock);
	return caches;
}

static struct kube_informer *block_cache(struct ipamctl_pool_manager *pm)
{
	return caches_of(pm).blocks;
}

/* The AddressPool from the cache, or from the API server when the cache has not seen it. */
static int read_pool(struct ipamctl_pool_manager *pm, const char *name, json_t **pool, char *err,
		     size_t errlen)
{
	struct kube_informer *pools = caches_of(pm).pools;
	if (pools && (*pool = kube_informer_get(pools, NULL, name)))
		return 0;
	return kube_get(pm->client, &COILAPI_RES_ADDRESSPOOLS, NULL, name, pool, err, errlen);
}

/* Collects the pool's block indexes into an index set. */
struct used_indexes {
	struct ipamctl_index_set *set;
	bool failed;
};

static void add_used(void *arg, const char *name, const void *item)
{
	struct used_indexes *used = arg;
	const struct ipamctl_block_item *block = item;
	if (block->index >= 0 && ipamctl_index_set_add(used->set, (uint32_t)block->index) < 0)
		used->failed = true;
}

/* Re-reads the pool (max blocks gauge) and rebuilds its index set from its blocks (allocated
 * gauge); blocks being deleted still hold their index. Called with
 * state->lock held. */
static void remember_carve(struct pool_state *state, uint32_t index)
{
	if (state->nrecent == RECENT_CARVES) {
		memmove(state->recent, state->recent + 1,
			sizeof(state->recent[0]) * (RECENT_CARVES - 1));
		state->nrecent--;
	}
	state->recent[state->nrecent++] = index;
}

/* Whether the pool's block at index exists on the API server (true on doubt: an index
 * wrongly kept costs one 409 at most, one wrongly freed nothing, since names are unique). */
static bool block_exists(struct ipamctl_pool_manager *pm, const char *pool, uint32_t index)
{
	char name[IPAMCTL_BLOCK_NAME_MAX], err[256];
	json_t *block = NULL;
	if (!ipamctl_block_name(name, sizeof(name), pool, index))
		return false;
	int ret =
	    kube_get(pm->client, &COILAPI_RES_ADDRESSBLOCKS, NULL, name, &block, err, sizeof(err));
	json_decref(block);
	return ret != -ENOENT;
}

/* After a sync rebuilt `used` from the cache: the recent carves the cache has are forgotten;
 * those it lacks stay used while the API server still has them. Returns how many of them
 * the cache lacked (to count them). */
static long keep_recent_carves(struct ipamctl_pool_manager *pm, struct pool_state *state)
{
	long missing = 0;
	int kept = 0;
	for (int i = 0; i < state->nrecent; i++) {
		uint32_t index = state->recent[i];
		if (ipamctl_index_set_contains(&state->used, index) ||
		    !block_exists(pm, state->name, index))
			continue;
		if (ipamctl_index_set_add(&state->used, index) == 0)
			missing++;
		state->recent[kept++] = index;
	}
	state->nrecent = kept;
	return missing;
}

static int sync_blocks(struct ipamctl_pool_manager *pm, struct pool_state *state, char *err,
		       size_t errlen)
{
	json_t *pool = NULL;
	struct coilapi_pool spec;
	int ret =
	    kube_get(pm->client, &COILAPI_RES_ADDRESSPOOLS, NULL, state->name, &pool, err, errlen);
	if (ret)
		return ret;
	ret = ipamctl_pool_decode(pool, &spec, err, errlen);
	if (ret) {
		json_decref(pool);
		return ret;
	}
	struct ipam_pool carving = coilapi_pool_ipam(&spec);
	set_gauge(pm, IPAMCTL_METRIC_MAX_BLOCKS, state->name,
		  (double)ipam_pool_max_blocks(&carving), false);
	coilapi_pool_clear(&spec);
	json_decref(pool);

	ipamctl_index_set_clear(&state->used);
	struct used_indexes used = {.set = &state->used};
	long count = 0;
	ret = ipamctl_blocks_visit(pm->client, block_cache(pm), IPAMCTL_INDEX_POOL, state->name,
				   add_used, &used, &count, err, errlen);
	if (ret)
		return ret;
	count += keep_recent_carves(pm, state);
	set_gauge(pm, IPAMCTL_METRIC_ALLOCATED_BLOCKS, state->name, (double)count, false);
	if (used.failed)
		return errorf(err, errlen, -ENOMEM, "AddressPool %s: out of memory", state->name);
	return 0;
}

static struct pool_state *find_locked(struct ipamctl_pool_manager *pm, const char *name)
{
	for (struct pool_state *s = pm->pools; s; s = s->next) {
		if (strcmp(s->name, name) == 0)
			return s;
	}
	return NULL;
}

static struct pool_state *state_new(const char *name)
{
	struct pool_state *state = calloc(1, sizeof(*state));
	if (!state || !(state->name = strdup(name))) {
		free(state);
		return NULL;
	}
	pthread_mutex_init(&state->lock, NULL);
	state->refs = 1; /* the map's reference */
	return state;
}

/* getPool: the pool's state with a reference the caller puts back, created with a full sync
 * when new (like upstream, creation and the first sync happen under the map lock). */
static int get_pool(struct ipamctl_pool_manager *pm, const char *name, struct pool_state **out,
		    char *err, size_t errlen)
{
	pthread_mutex_lock(&pm->map_lock);
	struct pool_state *state = find_locked(pm, name);
	if (!state) {
		if (!(state = state_new(name))) {
			pthread_mutex_unlock(&pm->map_lock);
			snprintf(err, errlen, "AddressPool %s: out of memory", name);
			return -ENOMEM;
		}
		pthread_mutex_lock(&state->lock);
		int ret = sync_blocks(pm, state, err, errlen);
		pthread_mutex_unlock(&state->lock);
		if (ret) {
			pthread_mutex_unlock(&pm->map_lock);
			state_free(state);
			return ret;
		}
		state->next = pm->pools;
		pm->pools = state;
	}
	state->refs++;
	pthread_mutex_unlock(&pm->map_lock);
	*out = state;
	return 0;
}

int ipamctl_pool_manager_sync_pool(struct ipamctl_pool_manager *pm, const char *pool, char *err,
				   size_t errlen)
{
	struct pool_state *state;
	int ret = get_pool(pm, pool, &state, err, errlen);
	if (ret)
		return ret;
	pthread_mutex_lock(&state->lock);
	ret = sync_blocks(pm, state, err, errlen);
	pthread_mutex_unlock(&state->lock);
	state_put(pm, state);
	return ret;
}

void ipamctl_pool_manager_drop_pool(struct ipamctl_pool_manager *pm, const char *pool)
{
	pthread_mutex_lock(&pm->map_lock);
	struct pool_state **link = &pm->pools;
	while (*link && strcmp((*link)->name, pool) != 0)
		link = &(*link)->next;
	struct pool_state *state = *link;
	if (state)
		*link = state->next;
	delete_gauges(pm, pool);
	pthread_mutex_unlock(&pm->map_lock);
	if (state)
		state_put(pm, state);
}

static void count_block(void *arg, const char *name, const void *item)
{
}

/* A direct list, not the cache: a block created just before the pool's deletion began must
 * keep the pool, even if the cache has not seen it yet. */
int ipamctl_pool_manager_is_used(struct ipamctl_pool_manager *pm, const char *pool, bool *used,
				 char *err, size_t errlen)
{
	struct pool_state *state;
	long count = 0;
	int ret = get_pool(pm, pool, &state, err, errlen);
	if (ret)
		return ret;
	state_put(pm, state);
	ret = ipamctl_blocks_visit(pm->client, NULL, IPAMCTL_INDEX_POOL, pool, count_block, NULL,
				   &count, err, errlen);
	if (ret == 0)
		*used = count > 0;
	return ret;
}

/* Reads the pool and carves block `index` of it into *block; a pool being deleted gives
 * no new blocks (ErrNoBlock). */
static int build_block(struct ipamctl_pool_manager *pm, const char *pool_name, uint64_t index,
		       const char *node, const char *request_uid, json_t **block, char *err,
		       size_t errlen)
{
	json_t *pool = NULL;
	struct coilapi_pool spec;
	struct ipam_block_cidrs cidrs;
	int ret = read_pool(pm, pool_name, &pool, err, errlen);
	if (ret)
		return ret;
	if (ipamctl_being_deleted(pool)) {
		json_decref(pool);
		snprintf(err, errlen, "AddressPool %s is being deleted: out of blocks", pool_name);
		return IPAMCTL_ERR_NO_BLOCK;
	}
	ret = ipamctl_pool_decode(pool, &spec, err, errlen);
	if (ret == 0) {
		struct ipam_pool carving = coilapi_pool_ipam(&spec);
		ret = ipam_pool_get_block(&carving, index, &cidrs, err, errlen);
		coilapi_pool_clear(&spec);
	}
	if (ret == -ENOSPC) {
		snprintf(err, errlen, "AddressPool %s: out of blocks", pool_name);
		ret = IPAMCTL_ERR_NO_BLOCK;
	}
	if (ret == 0 &&
	    !(*block = ipamctl_block_build(pool, (uint32_t)index, &cidrs, node, request_uid))) {
		snprintf(err, errlen, "AddressPool %s: cannot build block %llu", pool_name,
			 (unsigned long long)index);
		ret = -EINVAL;
	}
	json_decref(pool);
	return ret;
}

/* How many taken names one carve steps over: the blocks the cache has not seen yet. */
#define CARVE_TRIES 16

/* AllocateBlock with the pool's lock held. */
static int carve_locked(struct ipamctl_pool_manager *pm, struct pool_state *state, const char *node,
			const char *request_uid, json_t **out, char *err, size_t errlen)
{
	int ret = -EEXIST;
	uint64_t index = 0;
	for (int tries = 0; ret == -EEXIST && tries < CARVE_TRIES; tries++) {
		index = ipamctl_index_set_lowest_free(&state->used);
		json_t *block = NULL;
		ret = build_block(pm, state->name, index, node, request_uid, &block, err, errlen);
		if (ret)
			return ret;
		ret = kube_create(pm->client, &COILAPI_RES_ADDRESSBLOCKS, NULL, block, out, err,
				  errlen);
		json_decref(block);
		/* The name is taken: by a block the cache has not seen yet, or by one made by hand
		 * without the pool label. Either way its index cannot be used until the next sync.
		 */
		if (ret == 0 || ret == -EEXIST)
			ipamctl_index_set_add(&state->used, (uint32_t)index);
	}
	if (ret == 0) {
		remember_carve(state, (uint32_t)index);
		set_gauge(pm, IPAMCTL_METRIC_ALLOCATED_BLOCKS, state->name, 1, true);
	}
	return ret;
}

int ipamctl_pool_manager_allocate(struct ipamctl_pool_manager *pm, const char *pool,
				  const char *node, const char *request_uid, json_t **block,
				  char *err, size_t errlen)
{
	struct pool_state *state;
	json_t *created = NULL;
	if (!pool || !*pool || !node || !request_uid) {
		snprintf(err, errlen, "allocate: pool, node and request UID are required");
		return -EINVAL;
	}
	int ret = get_pool(pm, pool, &state, err, errlen);
	if (ret)
		return ret;
	pthread_mutex_lock(&state->lock);
	ret = carve_locked(pm, state, node, request_uid, &created, err, errlen);
	pthread_mutex_unlock(&state->lock);
	state_put(pm, state);
	if (ret == 0)
		log_info("allocated a block", "pool", pool, "node", node, "block",
			 kube_obj_name(created));
	if (block && ret == 0)
		*block = created;
	else
		json_decref(created);
	return ret;
}

static int ops_sync(void *arg, const char *pool, char *err, size_t errlen)
{
	return ipamctl_pool_manager_sync_pool(arg, pool, err, errlen);
}

static void ops_drop(void *arg, const char *pool)
{
	ipamctl_pool_manager_drop_pool(arg, pool);
}

static void ops_use_caches(void *arg, const struct ipamctl_caches *caches)
{
	ipamctl_pool_manager_use_caches(arg, caches);
}

static int ops_is_used(void *arg, const char *pool, bool *used, char *err, size_t errlen)
{
	return ipamctl_pool_manager_is_used(arg, pool, used, err, errlen);
}

static int ops_allocate(void *arg, const char *pool, const char *node, const char *request_uid,
			char *block_name, char *err, size_t errlen)
{
	json_t *block = NULL;
	int ret = ipamctl_pool_manager_allocate(arg, pool, node, request_uid, &block, err, errlen);
	if (ret == 0)
		snprintf(block_name, IPAMCTL_BLOCK_NAME_MAX, "%s",
			 kube_obj_name(block) ? kube_obj_name(block) : "");
	json_decref(block);
	return ret;
}

struct ipamctl_pools ipamctl_pool_manager_ops(struct ipamctl_pool_manager *pm)
{
	return (struct ipamctl_pools){.sync_pool = ops_sync,
				      .drop_pool = ops_drop,
				      .use_caches = ops_use_caches,
				      .is_used = ops_is_used,
				      .allocate = ops_allocate,
				      .arg = pm};
}
