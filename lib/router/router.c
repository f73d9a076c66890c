/* The coil router runtime: AddressBlock events post a coalescing token; a loop on the caller's
 * thread syncs on each token and on every update-interval tick (docs/behaviour/router.md). */
#include "router/router.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log/log.h"

#define METRIC_SYNCS  "coil_router_syncs_total"
#define METRIC_ROUTES "coil_router_routes_synced"

struct router {
	struct kube_client *client; /* borrowed */
	struct kube_informer *blocks;
	char *node;
	char labels[320]; /* node="<escaped name>" */
	long interval_ms;
	router_sync_fn sync;
	void *sync_arg;
	struct metrics *metrics; /* borrowed */

	pthread_mutex_t lock; /* guards the fields below */
	pthread_cond_t wake;  /* CLOCK_MONOTONIC */
	bool token;	      /* the 1-slot "something changed" channel */
	bool stopping;
	unsigned long syncs;
};

static void post_token(struct router *r)
{
	pthread_mutex_lock(&r->lock);
	r->token = true;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
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

/* Prometheus label value escaping: backslash, double quote and newline. */
static int format_labels(const char *node, char *buf, size_t len)
{
	size_t o = 0;
	int n = snprintf(buf, len, "node=\"");
	o = (size_t)n;
	for (const char *p = node; *p; p++) {
		const char *piece = *p == '\\'	 ? "\\\\"
				    : *p == '"'	 ? "\\\""
				    : *p == '\n' ? "\\n"
						 : NULL;
		size_t plen = piece ? strlen(piece) : 1;
		if (o + plen + 2 >= len)
			return -ENAMETOOLONG;
		memcpy(buf + o, piece ? piece : p, plen);
		o += plen;
	}
	memcpy(buf + o, "\"", 2);
	return 0;
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
	if (format_labels(cfg->node_name, r->labels, sizeof(r->labels)) < 0) {
		snprintf(err, errlen, "router: node name too long: %s", cfg->node_name);
		return -ENAMETOOLONG;
	}
	if (declare_metrics(r) < 0) {
		snprintf(err, errlen, "router: cannot declare metrics %s, %s", METRIC_SYNCS,
			 METRIC_ROUTES);
		return -EEXIST;
	}
	struct kube_informer_opts opts = {
	    .res = &KUBE_RES_ADDRESSBLOCKS,
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
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&r->wake, &attr);
	pthread_condattr_destroy(&attr);
	pthread_mutex_init(&r->lock, NULL);
	int rc = init_router(r, client, cfg, err, errlen);
	if (rc < 0) {
		router_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void wait_until(struct router *r, long deadline_ms)
{
	struct timespec ts = {deadline_ms / 1000, (deadline_ms % 1000) * 1000000L};
	pthread_cond_timedwait(&r->wake, &r->lock, &ts);
}

/* Blocks until a token or a tick (returns true) or a stop (false). */
static bool wait_trigger(struct router *r, long *next_tick_ms)
{
	pthread_mutex_lock(&r->lock);
	while (!r->stopping && !r->token && now_ms() < *next_tick_ms)
		wait_until(r, *next_tick_ms);
	bool go = !r->stopping;
	r->token = false;
	/* Like a Go ticker: a tick missed while syncing is taken once, not repeatedly. */
	for (long now = now_ms(); *next_tick_ms <= now;)
		*next_tick_ms += r->interval_ms;
	pthread_mutex_unlock(&r->lock);
	return go;
}

/* Blocks appear in the cache one by one during the first list; plan from the whole list. */
static bool wait_blocks_synced(struct router *r)
{
	for (;;) {
		if (kube_informer_wait_synced(r->blocks, 200))
			return true;
		pthread_mutex_lock(&r->lock);
		bool stopping = r->stopping;
		pthread_mutex_unlock(&r->lock);
		if (stopping)
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
	long next_tick = now_ms() + r->interval_ms;
	while (wait_trigger(r, &next_tick)) {
		if (!wait_blocks_synced(r))
			break;
		if ((rc = sync_once(r, err, errlen)) < 0) {
			log_error("synchronizing block information failed", "error", err);
			break;
		}
		pthread_mutex_lock(&r->lock);
		r->syncs++;
		pthread_mutex_unlock(&r->lock);
		metrics_add(r->metrics, METRIC_SYNCS, r->labels, 1);
	}
	kube_informer_stop(r->blocks);
	return rc < 0 ? rc : 0;
}

void router_stop(struct router *r)
{
	pthread_mutex_lock(&r->lock);
	r->stopping = true;
	pthread_cond_broadcast(&r->wake);
	pthread_mutex_unlock(&r->lock);
}

unsigned long router_sync_count(struct router *r)
{
	pthread_mutex_lock(&r->lock);
	unsigned long n = r->syncs;
	pthread_mutex_unlock(&r->lock);
	return n;
}

void router_free(struct router *r)
{
	if (!r)
		return;
	kube_informer_free(r->blocks);
	pthread_cond_destroy(&r->wake);
	pthread_mutex_destroy(&r->lock);
	free(r->node);
	free(r);
}
