/* The leader's controller: informers turn events into keys on two work queues (pools,
 * requests), one worker thread per queue runs the reconciler, and a GC thread removes orphaned
 * blocks at start, every gc_interval_ms and soon after a Node is deleted.
 *
 * Threads: 4 informer threads (lib/kube), 2 workers, 1 GC thread. Informer handlers only copy
 * names into the queues (the objects they see are borrowed and not shareable across threads).
 * AddressBlocks and Nodes are cached as compact items (blockcache.h), and the pool manager, the
 * carved-block lookup and the GC read them from there; pools and requests (few, and written
 * back) are read from the API server. Nothing is reconciled before every cache has synced. */
#include "ipamctl.h"
#include "log/log.h"
#include "blockcache.h"
#include "objects.h"
#include "wake/wake.h"
#include "workqueue/workqueue.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Retry backoff of failed reconciles: 100 ms doubling up to 30 s. */
#define RETRY_BASE_MS 100
#define RETRY_MAX_MS  30000

/* A deleted Node is usually followed by more (a node pool going away): wait a moment so one
 * GC run covers them. */
#define NODE_GC_DELAY_MS 200

/* How often a key that arrived before the caches synced is tried again. */
#define UNSYNCED_RETRY_MS 100

enum { INF_POOLS, INF_BLOCKS, INF_REQUESTS, INF_NODES, N_INFORMERS };

struct ipamctl_controller {
	struct ipamctl_controller_config cfg;
	struct kube_informer *informers[N_INFORMERS];
	struct workqueue_worker pool_worker, request_worker;

	struct wake gc_wake; /* stopped on stop; its lock guards gc_kicked */
	bool gc_kicked;
	pthread_t gc_thread;
	bool gc_started;
};

/* ---- event handlers (informer threads) ---- */

static void enqueue_pool(void *arg, const json_t *obj)
{
	struct ipamctl_controller *ctl = arg;
	if (kube_obj_name(obj))
		workqueue_add(ctl->pool_worker.queue, kube_obj_name(obj));
}

static void pool_updated(void *arg, const json_t *old_obj, const json_t *new_obj)
{
	enqueue_pool(arg, new_obj);
}

/* Only the deletion of a block controller-owned by a pool triggers that pool. */
static void block_deleted(void *arg, const char *key, const void *item)
{
	struct ipamctl_controller *ctl = arg;
	const struct ipamctl_block_item *block = item;
	if (block->owner_pool)
		workqueue_add(ctl->pool_worker.queue, block->owner_pool);
}

static void request_added(void *arg, const json_t *obj)
{
	struct ipamctl_controller *ctl = arg;
	if (kube_obj_name(obj))
		workqueue_add(ctl->request_worker.queue, kube_obj_name(obj));
}

/* Updates count only when the new object has no conditions (e.g. they were cleared). */
static void request_updated(void *arg, const json_t *old_obj, const json_t *new_obj)
{
	if (ipamctl_condition_count(new_obj) == 0)
		request_added(arg, new_obj);
}

static void kick_gc(struct ipamctl_controller *ctl)
{
	wake_lock(&ctl->gc_wake);
	ctl->gc_kicked = true;
	wake_notify_locked(&ctl->gc_wake);
	wake_unlock(&ctl->gc_wake);
}

static void node_deleted(void *arg, const char *key, const void *item)
{
	log_info("node deleted; collecting its blocks", "node", key);
	kick_gc(arg);
}

/* ---- workers ---- */

static struct ipamctl_caches caches_of(const struct ipamctl_controller *ctl)
{
	return (struct ipamctl_caches){.pools = ctl->informers[INF_POOLS],
				       .blocks = ctl->informers[INF_BLOCKS],
				       .requests = ctl->informers[INF_REQUESTS],
				       .nodes = ctl->informers[INF_NODES]};
}

static bool caches_synced(struct ipamctl_controller *ctl)
{
	for (int i = 0; i < N_INFORMERS; i++) {
		if (ctl->informers[i] && !kube_informer_has_synced(ctl->informers[i]))
			return false;
	}
	return true;
}

/* The reconcilers take the client, the pools and the caches of the controller (arg). A key
 * that comes before the caches are complete waits: a pool synced from half a block cache
 * would hand out taken indexes. */
static int reconcile_pool(void *arg, const char *key, char *err, size_t errlen)
{
	struct ipamctl_controller *ctl = arg;
	if (!caches_synced(ctl)) {
		workqueue_add_after(ctl->pool_worker.queue, key, UNSYNCED_RETRY_MS);
		return 0;
	}
	return ipamctl_reconcile_pool(ctl->cfg.client, &ctl->cfg.pools, key, err, errlen);
}

static int reconcile_request(void *arg, const char *key, char *err, size_t errlen)
{
	struct ipamctl_controller *ctl = arg;
	struct workqueue *queue = ctl->request_worker.queue;
	if (!caches_synced(ctl)) {
		workqueue_add_after(queue, key, UNSYNCED_RETRY_MS);
		return 0;
	}
	struct ipamctl_caches caches = caches_of(ctl);
	return ipamctl_reconcile_request(ctl->cfg.client, &ctl->cfg.pools, &caches,
					 workqueue_failures(queue, key) > 0, key, err, errlen);
}

/* ---- GC ---- */

static void gc_once(struct ipamctl_controller *ctl)
{
	char err[1024] = "";
	int removed = 0;
	struct ipamctl_caches caches = caches_of(ctl);
	int ret = ipamctl_gc_orphan_blocks(ctl->cfg.client, &caches, &removed, err, sizeof(err));
	if (removed > 0) {
		char count[16];
		snprintf(count, sizeof(count), "%d", removed);
		log_info("orphan block GC removed blocks", "count", count);
	}
	/* Upstream exits here; logging and trying again at the next run serves as well. */
	if (ret < 0)
		log_error("orphan block GC failed", "error", err);
}

/* Waits for a kick, the interval or stop; returns false on stop. */
static bool gc_wait(struct ipamctl_controller *ctl)
{
	long until =
	    wake_deadline_after(ctl->cfg.gc_interval_ms > 0 ? ctl->cfg.gc_interval_ms : -1);
	wake_lock(&ctl->gc_wake);
	while (!ctl->gc_wake.stopped && !ctl->gc_kicked &&
	       wake_wait_until_locked(&ctl->gc_wake, until))
		;
	bool kicked = ctl->gc_kicked;
	ctl->gc_kicked = false;
	bool go_on = !ctl->gc_wake.stopped;
	wake_unlock(&ctl->gc_wake);
	if (go_on && kicked)
		nanosleep(&(struct timespec){0, NODE_GC_DELAY_MS * 1000000L}, NULL);
	return go_on;
}

/* Waits until the caches are complete; returns false on stop. */
static bool gc_wait_synced(struct ipamctl_controller *ctl)
{
	for (;;) {
		wake_lock(&ctl->gc_wake);
		bool stopped = ctl->gc_wake.stopped;
		wake_unlock(&ctl->gc_wake);
		if (stopped)
			return false;
		if (caches_synced(ctl))
			return true;
		nanosleep(&(struct timespec){0, UNSYNCED_RETRY_MS * 1000000L}, NULL);
	}
}

static void *gc_main(void *arg)
{
	struct ipamctl_controller *ctl = arg;
	if (!gc_wait_synced(ctl))
		return NULL;
	do
		gc_once(ctl);
	while (gc_wait(ctl));
	return NULL;
}

/* ---- start and stop ---- */

static int start_informer(struct ipamctl_controller *ctl, int which, struct kube_informer_opts opts,
			  char *err, size_t errlen)
{
	opts.handlers.arg = ctl;
	opts.item_handlers.arg = ctl;
	int ret = kube_informer_new(ctl->cfg.client, &opts, &ctl->informers[which], err, errlen);
	if (ret == 0 && which == INF_BLOCKS &&
	    (ret = ipamctl_block_cache_indexes(ctl->informers[which])))
		snprintf(err, errlen, "AddressBlock cache: %s", strerror(-ret));
	if (ret == 0)
		ret = kube_informer_start(ctl->informers[which], err, errlen);
	return ret;
}

static int start_informers(struct ipamctl_controller *ctl, char *err, size_t errlen)
{
	struct kube_informer_opts pools = {.res = &COILAPI_RES_ADDRESSPOOLS,
					   .handlers = {.on_add = enqueue_pool,
							.on_update = pool_updated,
							.on_delete = enqueue_pool}};
	struct kube_informer_opts blocks = {.res = &COILAPI_RES_ADDRESSBLOCKS,
					    .codec = &IPAMCTL_BLOCK_CODEC,
					    .item_handlers = {.on_delete = block_deleted}};
	struct kube_informer_opts requests = {
	    .res = &COILAPI_RES_BLOCKREQUESTS,
	    .handlers = {.on_add = request_added, .on_update = request_updated}};
	struct kube_informer_opts nodes = {.res = &KUBE_RES_NODES,
					   .codec = &IPAMCTL_NODE_CODEC,
					   .item_handlers = {.on_delete = node_deleted}};
	int ret = start_informer(ctl, INF_POOLS, pools, err, errlen);
	if (ret == 0)
		ret = start_informer(ctl, INF_BLOCKS, blocks, err, errlen);
	if (ret == 0)
		ret = start_informer(ctl, INF_REQUESTS, requests, err, errlen);
	if (ret == 0 && !ctl->cfg.disable_gc)
		ret = start_informer(ctl, INF_NODES, nodes, err, errlen);
	if (ret == 0 && ctl->cfg.pools.use_caches) {
		struct ipamctl_caches caches = caches_of(ctl);
		ctl->cfg.pools.use_caches(ctl->cfg.pools.arg, &caches);
	}
	return ret;
}

int ipamctl_controller_start(const struct ipamctl_controller_config *cfg,
			     struct ipamctl_controller **out, char *err, size_t errlen)
{
	struct ipamctl_controller *ctl = calloc(1, sizeof(*ctl));
	if (!ctl) {
		snprintf(err, errlen, "controller: out of memory");
		return -ENOMEM;
	}
	ctl->cfg = *cfg;
	if (wake_init(&ctl->gc_wake) < 0) {
		free(ctl);
		snprintf(err, errlen, "controller: cannot set up the GC timer");
		return -ENOMEM;
	}
	int ret = workqueue_worker_start(&ctl->pool_worker, "addresspool", reconcile_pool, ctl,
					 RETRY_BASE_MS, RETRY_MAX_MS, err, errlen);
	if (ret == 0)
		ret =
		    workqueue_worker_start(&ctl->request_worker, "blockrequest", reconcile_request,
					   ctl, RETRY_BASE_MS, RETRY_MAX_MS, err, errlen);
	if (ret == 0)
		ret = start_informers(ctl, err, errlen);
	if (ret == 0 && !cfg->disable_gc) {
		ret = -pthread_create(&ctl->gc_thread, NULL, gc_main, ctl);
		ctl->gc_started = ret == 0;
		if (ret)
			snprintf(err, errlen, "gc: cannot start a thread: %s", strerror(-ret));
	}
	if (ret) {
		ipamctl_controller_stop(ctl);
		return ret;
	}
	log_info("ipam controller started");
	*out = ctl;
	return 0;
}

bool ipamctl_controller_wait_synced(struct ipamctl_controller *ctl, long timeout_ms)
{
	for (int i = 0; i < N_INFORMERS; i++) {
		if (ctl->informers[i] && !kube_informer_wait_synced(ctl->informers[i], timeout_ms))
			return false;
	}
	return true;
}

void ipamctl_controller_stop(struct ipamctl_controller *ctl)
{
	if (!ctl)
		return;
	/* Informers first, so no handler touches a queue being freed; their caches stay until the
	 * workers and the GC that read them are gone. */
	kube_informers_stop_all(ctl->informers, N_INFORMERS);
	wake_stop(&ctl->gc_wake);
	if (ctl->gc_started)
		pthread_join(ctl->gc_thread, NULL);
	workqueue_worker_stop(&ctl->pool_worker);
	workqueue_worker_stop(&ctl->request_worker);
	if (ctl->cfg.pools.use_caches)
		ctl->cfg.pools.use_caches(ctl->cfg.pools.arg, NULL);
	kube_informers_free_all(ctl->informers, N_INFORMERS);
	wake_destroy(&ctl->gc_wake);
	free(ctl);
	log_info("ipam controller stopped");
}
