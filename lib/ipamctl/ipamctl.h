/* coil-ipam-controller (see docs/behaviour/): the pool manager that carves AddressBlocks, the
 * AddressPool and BlockRequest reconcilers, the orphan-block garbage collector, and the
 * controller that runs them (informers, work queues, worker threads) while this replica leads.
 *
 * Functions that can fail return 0 or a negative errno and write a message naming the object
 * into err (errlen bytes). Everything here is thread-safe; one kube_client is shared. */
#ifndef COIL_IPAMCTL_H
#define COIL_IPAMCTL_H

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "coilapi/coilapi.h"
#include "kube/kube.h"
#include "metrics/metrics.h"

#define IPAMCTL_METRIC_MAX_BLOCKS	"coil_controller_max_blocks"
#define IPAMCTL_METRIC_ALLOCATED_BLOCKS "coil_controller_allocated_blocks"

/* ErrNoBlock: the pool has no free block or is being deleted ("out of blocks"). */
#define IPAMCTL_ERR_NO_BLOCK (-ENOSPC)

/* Longest AddressBlock name we produce: a 253-byte pool name, '-', 10 digits, NUL. */
#define IPAMCTL_BLOCK_NAME_MAX 265

/* Declares the two coil_controller_* gauges in m (idempotent). */
int ipamctl_metrics_declare(struct metrics *m);

/* The leader's informer caches (borrowed), as blockcache.h describes them: pools and requests
 * hold JSON trees, blocks and nodes compact items. A NULL cache means "ask the API server". */
struct ipamctl_caches {
	struct kube_informer *pools, *blocks, *requests, *nodes;
};

/* ---- the pool manager: pool state and carving ----------------------- */

struct ipamctl_pool_manager;

/* metrics may be NULL (no gauges). Caller frees with ipamctl_pool_manager_free(), which also
 * deletes the gauge series of every pool it knew. */
int ipamctl_pool_manager_new(struct kube_client *client, struct metrics *metrics,
			     struct ipamctl_pool_manager **out, char *err, size_t errlen);
void ipamctl_pool_manager_free(struct ipamctl_pool_manager *pm);

/* Reads blocks and pools from these caches (copied; their informers borrowed) from now on;
 * NULL (the default) = from the API server. A pool the cache has not seen is read directly. */
void ipamctl_pool_manager_use_caches(struct ipamctl_pool_manager *pm,
				     const struct ipamctl_caches *caches);

/* Creates the pool's state if needed, then re-reads the pool from the API server and its
 * blocks from the cache (SyncPool). -ENOENT when the pool does not exist. */
int ipamctl_pool_manager_sync_pool(struct ipamctl_pool_manager *pm, const char *pool, char *err,
				   size_t errlen);
/* Forgets the pool and deletes its gauge series. */
void ipamctl_pool_manager_drop_pool(struct ipamctl_pool_manager *pm, const char *pool);
/* Whether any AddressBlock is labeled with the pool (always a direct list). */
int ipamctl_pool_manager_is_used(struct ipamctl_pool_manager *pm, const char *pool, bool *used,
				 char *err, size_t errlen);
/* Carves the lowest free block of pool for node and creates its AddressBlock. *block (may be
 * NULL) gets the created object (caller json_decref()s). IPAMCTL_ERR_NO_BLOCK when the pool is
 * full or being deleted; other errors (pool missing, API failure) as they come. */
int ipamctl_pool_manager_allocate(struct ipamctl_pool_manager *pm, const char *pool,
				  const char *node, const char *request_uid, json_t **block,
				  char *err, size_t errlen);

/* What the reconcilers need of a pool manager; tests plug in a mock. */
struct ipamctl_pools {
	int (*sync_pool)(void *arg, const char *pool, char *err, size_t errlen);
	void (*drop_pool)(void *arg, const char *pool);
	/* The controller's caches once they are there, NULL before they go (may be NULL). */
	void (*use_caches)(void *arg, const struct ipamctl_caches *caches);
	int (*is_used)(void *arg, const char *pool, bool *used, char *err, size_t errlen);
	/* Writes the created block's name into block_name (IPAMCTL_BLOCK_NAME_MAX bytes). */
	int (*allocate)(void *arg, const char *pool, const char *node, const char *request_uid,
			char *block_name, char *err, size_t errlen);
	void *arg;
};

/* The ops of a real pool manager (arg = pm). */
struct ipamctl_pools ipamctl_pool_manager_ops(struct ipamctl_pool_manager *pm);

/* ---- reconcilers: one call handles one object; < 0 means "retry with backoff" ---- */

/* AddressPool `name`: drop state when gone, sync, remove the finalizer of a pool being
 * deleted once no block uses it. */
int ipamctl_reconcile_pool(struct kube_client *client, const struct ipamctl_pools *pools,
			   const char *name, char *err, size_t errlen);

/* BlockRequest `name`: answer a request without conditions with a block (reusing one
 * already carved for its UID) or with the out-of-blocks failure, via the status subresource.
 * The request comes from caches->requests (a stale copy only makes the conditional status write
 * conflict and the request come back); the carved block is looked up in caches->blocks and,
 * when the cache has none and retrying is set (an earlier try may have carved one the cache has
 * not seen yet), in a direct list. caches may be NULL: everything from the API server. */
int ipamctl_reconcile_request(struct kube_client *client, const struct ipamctl_pools *pools,
			      const struct ipamctl_caches *caches, bool retrying, const char *name,
			      char *err, size_t errlen);

/* One orphan-block GC run: every AddressBlock whose node label names no existing Node
 * loses its finalizer and is deleted. Blocks and Nodes come from caches (NULL, or a NULL member:
 * direct lists); orphans found in the caches are confirmed against a direct list of Nodes
 * first. *removed (may be NULL) counts deleted blocks. */
int ipamctl_gc_orphan_blocks(struct kube_client *client, const struct ipamctl_caches *caches,
			     int *removed, char *err, size_t errlen);

/* ---- the leader's controller ------------------------------------------ */

struct ipamctl_controller_config {
	struct kube_client *client; /* borrowed, must outlive the controller */
	struct ipamctl_pools pools; /* borrowed arg */
	long gc_interval_ms;	    /* orphan GC period; <= 0 disables the periodic runs */
	bool disable_gc;	    /* no GC thread at all (tests of the reconcilers) */
};

struct ipamctl_controller;

/* Starts informers on AddressPools, AddressBlocks, BlockRequests and Nodes, one worker thread
 * per reconciler with a de-duplicating, rate-limited work queue, and the GC thread (a run at
 * once, then every gc_interval_ms, and promptly after a Node is deleted). */
int ipamctl_controller_start(const struct ipamctl_controller_config *cfg,
			     struct ipamctl_controller **out, char *err, size_t errlen);
/* True once every informer has listed its collection. */
bool ipamctl_controller_wait_synced(struct ipamctl_controller *ctl, long timeout_ms);
/* Stops informers, drains nothing, joins every thread and frees. NULL is a no-op. */
void ipamctl_controller_stop(struct ipamctl_controller *ctl);

#endif
