/* The leader's controller: informers turn events into keys on two work queues (pools,
 * requests), one worker thread per queue runs the reconciler, and a GC thread removes orphaned
 * blocks at start, every gc_interval_ms and soon after a Node is deleted.
 *
 * Threads: 4 informer threads (lib/kube), 2 workers, 1 GC thread. Informer handlers only copy
 * names into the queues (the objects they see are borrowed and not shareable across threads);
 * every decision reads the API server directly. */
#include "ipamctl.h"
#include "log/log.h"
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
static void block_deleted(void *arg, const json_t *obj)
{
	struct ipamctl_controller *ctl = arg;
	const char *pool = ipamctl_controller_pool(obj);
	if (pool)
		workqueue_add(ctl->pool_worker.queue, pool);
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

static void node_deleted(void *arg, const json_t *obj)
{
	log_info("node deleted; collecting its blocks", "node", kube_obj_name(obj));
	kick_gc(arg);
}

/* ---- workers ---- */

/* The reconcilers take the client and the pools of the controller (arg). */
static int reconcile_pool(void *arg, const char *key, char *err, size_t errlen)
{
	struct ipamctl_controller *ctl = arg;
	return ipamctl_reconcile_pool(ctl->cfg.client, &ctl->cfg.pools, key, err, errlen);
}

static int reconcile_request(void *arg, const char *key, char *err, size_t errlen)
{
	struct ipamctl_controller *ctl = arg;
	return ipamctl_reconcile_request(ctl->cfg.client, &ctl->cfg.pools, key, err, errlen);
}

/* ---- GC ---- */

static void gc_once(struct ipamctl_controller *ctl)
{
	char err[1024] = "";
	int removed = 0;
	int ret = ipamctl_gc_orphan_blocks(ctl->cfg.client, &removed, err, sizeof(err));
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

static void *gc_main(void *arg)
{
	struct ipamctl_controller *ctl = arg;
	do
		gc_once(ctl);
	while (gc_wait(ctl));
	return NULL;
}

/* ---- start and stop ---- */

static int start_informer(struct ipamctl_controller *ctl, int which,
			  const struct kube_resource *res, struct kube_informer_handlers handlers,
			  char *err, size_t errlen)
{
	handlers.arg = ctl;
	struct kube_informer_opts opts = {.res = res, .handlers = handlers};
	int ret = kube_informer_new(ctl->cfg.client, &opts, &ctl->informers[which], err, errlen);
	if (ret == 0)
		ret = kube_informer_start(ctl->informers[which], err, errlen);
	return ret;
}

static int start_informers(struct ipamctl_controller *ctl, char *err, size_t errlen)
{
	struct kube_informer_handlers pools = {
	    .on_add = enqueue_pool, .on_update = pool_updated, .on_delete = enqueue_pool};
	struct kube_informer_handlers blocks = {.on_delete = block_deleted};
	struct kube_informer_handlers requests = {.on_add = request_added,
						  .on_update = request_updated};
	struct kube_informer_handlers nodes = {.on_delete = node_deleted};
	int ret = start_informer(ctl, INF_POOLS, &COILAPI_RES_ADDRESSPOOLS, pools, err, errlen);
	if (ret == 0)
		ret = start_informer(ctl, INF_BLOCKS, &COILAPI_RES_ADDRESSBLOCKS, blocks, err,
				     errlen);
	if (ret == 0)
		ret = start_informer(ctl, INF_REQUESTS, &COILAPI_RES_BLOCKREQUESTS, requests, err,
				     errlen);
	if (ret == 0 && !ctl->cfg.disable_gc)
		ret = start_informer(ctl, INF_NODES, &KUBE_RES_NODES, nodes, err, errlen);
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
	/* Informers first, so no handler touches a queue being freed. */
	kube_informers_free_all(ctl->informers, N_INFORMERS);
	wake_stop(&ctl->gc_wake);
	if (ctl->gc_started)
		pthread_join(ctl->gc_thread, NULL);
	workqueue_worker_stop(&ctl->pool_worker);
	workqueue_worker_stop(&ctl->request_worker);
	wake_destroy(&ctl->gc_wake);
	free(ctl);
	log_info("ipam controller stopped");
}
