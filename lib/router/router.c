/* The coil router runtime: AddressBlock events post a coalescing token; a loop on the caller's
 * thread syncs on each token and on every update-interval tick (docs/behaviour/router.md). */
#include "router/router.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coilapi/coilapi.h"
#include "log/log.h"
#include "wake/wake.h"

#define METRIC_SYNCS  "coil_router_syncs_total"
#define METRIC_ROUTES "coil_router_routes_synced"

struct router {
	struct kube_client *client; /* borrowed */
	struct kube_informer *blocks;
	char *node;
	char labels[320]; /* node="<name>", from metrics_labels */
	long interval_ms;
	router_sync_fn sync;
	void *sync_arg;
	struct metrics *metrics; /* borrowed */

	struct wake wake; /* stopped by router_stop; its lock guards the fields below */
	bool token;	  /* the 1-slot "something changed" channel */
	unsigned long syncs;
};

static void post_token(struct router *r)
{
	wake_lock(&r->wake);
	r->token = true;
	wake_notify_one_locked(&r->wake);
	wake_unlock(&r->wake);
}

static void on_block_add(void *arg, const json_t *obj)
{
	post_token(arg);
}

static void on_block_update(void *arg, const json_t *old_obj, const json_t *new_obj)
{
	post_token(arg);
}

static void on_block_delete(void *arg, const json_t *obj)
{
	post_token(arg);
}

static int declare_metrics(struct router *r)
{
	int rc = metrics_declare(r->metrics, METRIC_SYNCS, METRIC_COUNTER,
				 "Number of times coil-router has synchronized routes");
	if (rc == 0)
		rc = metrics_declare(r->metrics, METRIC_ROUTES, METRIC_GAUGE,
				     "Number of routes synchronized to kernel");
	if (rc == 0)
		rc = metrics_add(r->metrics, METRIC_SYNCS, r->labels, 0);
	if (rc == 0)
		rc = metrics_set(r->metrics, METRIC_ROUTES, r->labels, 0);
	return rc;
}

static int init_router(struct router *r, struct kube_client *client,
		       const struct router_config *cfg, char *err, size_t errlen)
{
	r->client = client;
	r->interval_ms = cfg->update_interval_ms;
	r->sync = cfg->sync;
	r->sync_arg = cfg->sync_arg;
	r->metrics = cfg->metrics;
	if (!(r->node = strdup(cfg->node_name))) {
		snprintf(err, errlen, "router: out of memory");
		return -ENOMEM;
	}
	if (metrics_labels(r->labels, sizeof(r->labels), "node", cfg->node_name, NULL) < 0) {
		snprintf(err, errlen, "router: node name too long: %s", cfg->node_name);
		return -ENAMETOOLONG;
	}
	if (declare_metrics(r) < 0) {
		snprintf(err, errlen, "router: cannot declare metrics %s, %s", METRIC_SYNCS,
			 METRIC_ROUTES);
		return -EEXIST;
	}
	struct kube_informer_opts opts = {
	    .res = &COILAPI_RES_ADDRESSBLOCKS,
	    .handlers = {.on_add = on_block_add,
			 .on_update = on_block_update,
			 .on_delete = on_block_delete,
			 .arg = r},
	};
	return kube_informer_new(client, &opts, &r->blocks, err, errlen);
}

int router_new(struct kube_client *client, const struct router_config *cfg, struct router **out,
	       char *err, size_t errlen)
{
	*out = NULL;
	if (!cfg->node_name || !*cfg->node_name || cfg->update_interval_ms <= 0 || !cfg->sync ||
	    !cfg->metrics) {
		snprintf(err, errlen,
			 "router: node name, update interval > 0, syncer and metrics "
			 "are required");
		return -EINVAL;
	}
	struct router *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "router: out of memory");
		return -ENOMEM;
	}
	if (wake_init(&r->wake) < 0) {
		free(r);
		snprintf(err, errlen, "router: cannot set up its wake-up");
		return -ENOMEM;
	}
	int rc = init_router(r, client, cfg, err, errlen);
	if (rc < 0) {
		router_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

/* Blocks until a token or a tick (returns true) or a stop (false). */
static bool wait_trigger(struct router *r, long *next_tick_ms)
{
	wake_lock(&r->wake);
	while (!r->wake.stopped && !r->token && wake_wait_until_locked(&r->wake, *next_tick_ms))
		;
	bool go = !r->wake.stopped;
	r->token = false;
	/* Like a Go ticker: a tick missed while syncing is taken once, not repeatedly. */
	for (long now = wake_now_ms(); *next_tick_ms <= now;)
		*next_tick_ms += r->interval_ms;
	wake_unlock(&r->wake);
	return go;
}

/* Blocks appear in the cache one by one during the first list; plan from the whole list. */
static bool wait_blocks_synced(struct router *r)
{
	for (;;) {
		if (kube_informer_wait_synced(r->blocks, 200))
			return true;
		if (wake_stopped(&r->wake))
			return false;
	}
}

/* One sync: Nodes listed directly, blocks from the informer cache. */
static int sync_once(struct router *r, char *err, size_t errlen)
{
	json_t *nodes = NULL;
	char why[512];
	int rc = kube_list_all(r->client, &KUBE_RES_NODES, NULL, NULL, &nodes, NULL, 0, why,
			       sizeof(why));
	if (rc < 0) {
		snprintf(err, errlen, "failed to list Nodes: %s", why);
		return rc;
	}
	json_t *blocks = kube_informer_list(r->blocks);
	struct router_plan plan;
	rc = blocks ? router_plan_build(nodes, blocks, r->node, &plan, err, errlen) : -ENOMEM;
	if (!blocks)
		snprintf(err, errlen, "failed to list AddressBlocks: out of memory");
	json_decref(nodes);
	json_decref(blocks);
	if (rc < 0)
		return rc;
	metrics_set(r->metrics, METRIC_ROUTES, r->labels, (double)plan.n);
	rc = r->sync(r->sync_arg, plan.routes, plan.n, err, errlen);
	router_plan_free(&plan);
	return rc;
}

int router_run(struct router *r, char *err, size_t errlen)
{
	int rc = kube_informer_start(r->blocks, err, errlen);
	if (rc < 0)
		return rc;
	long next_tick = wake_now_ms() + r->interval_ms;
	while (wait_trigger(r, &next_tick)) {
		if (!wait_blocks_synced(r))
			break;
		if ((rc = sync_once(r, err, errlen)) < 0) {
			log_error("synchronizing block information failed", "error", err);
			break;
		}
		wake_lock(&r->wake);
		r->syncs++;
		wake_unlock(&r->wake);
		metrics_add(r->metrics, METRIC_SYNCS, r->labels, 1);
	}
	kube_informer_stop(r->blocks);
	return rc < 0 ? rc : 0;
}

void router_stop(struct router *r)
{
	wake_stop(&r->wake);
}

unsigned long router_sync_count(struct router *r)
{
	wake_lock(&r->wake);
	unsigned long n = r->syncs;
	wake_unlock(&r->wake);
	return n;
}

void router_free(struct router *r)
{
	if (!r)
		return;
	kube_informer_free(r->blocks);
	wake_destroy(&r->wake);
	free(r->node);
	free(r);
}
