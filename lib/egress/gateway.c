/* The running gateway: the pod informer feeds keys to one worker thread, which owns the
 * netlink socket and the client set (so neither needs a lock); a collector thread refreshes
 * the counters every 30 s with its own sockets. */
#include "egress/egress.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "err/err.h"
#include "log/log.h"
#include "workqueue/workqueue.h"

#define RETRY_BASE_MS 500
#define RETRY_MAX_MS  60000
#define SYNC_POLL_MS  1000

struct egress_gateway {
	struct egress_gateway_config cfg;
	struct founat_config fou;
	struct egress_natserver nat;
	struct nl_sock sock; /* the worker's (after start) */
	struct egress_watch *watch;
	struct kube_informer *informer;
	struct workqueue *queue;
	struct kube_stop *stop;
	pthread_t worker, collector;
	bool worker_started, collector_started;
	atomic_bool synced;
	atomic_int failure; /* the worker's fatal error, 0 = none */
	char failure_msg[512];
};

/* ---- the kernel side of the client set ---- */

static int op_add_peer(void *arg, const struct nl_ip *ip, char ifname[IF_NAMESIZE], char *err,
		       size_t errlen)
{
	struct egress_gateway *g = arg;
	struct nl_link link;
	int rc = founat_add_peer(&g->sock, &g->fou, ip, g->cfg.sport_auto, &link, err, errlen);
	if (rc == 0)
		rc = egress_natserver_add_client(&g->sock, &g->nat, ip, &link, err, errlen);
	if (rc == 0)
		memcpy(ifname, link.name, IF_NAMESIZE);
	return rc;
}

static int op_del_peer(void *arg, const struct nl_ip *ip, char *err, size_t errlen)
{
	struct egress_gateway *g = arg;
	return founat_del_peer(&g->sock, ip, err, errlen);
}

/* ---- informer -> queue ---- */

static void enqueue(void *arg, const json_t *obj)
{
	struct egress_gateway *g = arg;
	char key[EGRESS_KEY_LEN];
	if (kube_obj_key(kube_obj_namespace(obj), kube_obj_name(obj), key, sizeof(key)) == 0)
		workqueue_add(g->queue, key);
}

static void on_update(void *arg, const json_t *old_obj, const json_t *new_obj)
{
	(void)old_obj;
	enqueue(arg, new_obj);
}

/* ---- the worker ---- */

static int sync_key(struct egress_gateway *g, const char *key, char *err, size_t errlen)
{
	const char *slash = strchr(key, '/');
	char ns[64] = "";
	if (slash && (size_t)(slash - key) < sizeof(ns))
		memcpy(ns, key, (size_t)(slash - key));
	json_t *obj = kube_informer_get(g->informer, ns, slash ? slash + 1 : key);
	struct egress_pod pod;
	int rc = 0;
	if (obj)
		rc = egress_pod_decode(obj, g->cfg.env.ns, g->cfg.env.name, &pod, err, errlen);
	json_decref(obj);
	if (rc < 0)
		return rc;
	return egress_watch_sync(g->watch, key, obj ? &pod : NULL, err, errlen);
}

/* Tunnels of clients that went away while no gateway process ran: their links carry the
 * fou4_/fou6_ prefix but no tracked pod holds their remote address. */
static void remove_stale_tunnels(struct egress_gateway *g)
{
	struct nl_link *links = NULL;
	size_t n = 0;
	char err[256];
	if (nl_link_list(&g->sock, &links, &n, err, sizeof(err)) < 0) {
		log_warn("failed to list links for stale tunnels", "error", err);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (strncmp(links[i].name, FOUNAT_PREFIX4, 5) &&
		    strncmp(links[i].name, FOUNAT_PREFIX6, 5))
			continue;
		struct nl_iptun_info t;
		if (nl_iptun_get(&g->sock, links[i].name, &t, NULL, 0) < 0 ||
		    egress_watch_has_peer(g->watch, &t.remote))
			continue;
		if (nl_link_delete(&g->sock, links[i].index, err, sizeof(err)) == 0)
			log_info("removed the tunnel of a client that is gone", "link",
				 links[i].name);
		else
			log_warn("failed to remove a stale tunnel", "error", err);
	}
	free(links);
}

static int initial_sync(struct egress_gateway *g, char *err, size_t errlen)
{
	while (!kube_informer_wait_synced(g->informer, SYNC_POLL_MS))
		if (kube_stop_requested(g->stop))
			return -ECANCELED;
	json_t *pods = kube_informer_list(g->informer);
	size_t i;
	json_t *obj;
	int rc = pods ? 0 : errorf(err, errlen, -ENOMEM, "list pods: out of memory");
	json_array_foreach(pods, i, obj)
	{
		struct egress_pod pod;
		if (egress_pod_decode(obj, g->cfg.env.ns, g->cfg.env.name, &pod, NULL, 0) < 0)
			continue;
		rc = egress_watch_sync(g->watch, pod.key, &pod, err, errlen);
		if (rc < 0)
			break;
	}
	json_decref(pods);
	if (rc == 0)
		remove_stale_tunnels(g);
	return rc;
}

static void fail(struct egress_gateway *g, int rc, const char *msg)
{
	snprintf(g->failure_msg, sizeof(g->failure_msg), "%s", msg);
	atomic_store(&g->failure, rc);
	kube_stop_signal(g->stop);
	workqueue_shutdown(g->queue);
}

static void *worker_main(void *arg)
{
	struct egress_gateway *g = arg;
	char err[512];
	int rc = initial_sync(g, err, sizeof(err));
	if (rc == -ECANCELED)
		return NULL;
	if (rc < 0) {
		fail(g, rc, err); /* the pod restarts before it ever becomes ready */
		return NULL;
	}
	atomic_store(&g->synced, true);
	log_info("initial pod sync complete");
	char *key;
	while (workqueue_get(g->queue, &key)) {
		rc = sync_key(g, key, err, sizeof(err));
		if (rc < 0) {
			log_error("failed to reconcile a client pod", "pod", key, "error", err);
			workqueue_add_rate_limited(g->queue, key);
		} else {
			workqueue_forget(g->queue, key);
		}
		workqueue_done(g->queue, key);
		free(key);
	}
	return NULL;
}

static void *collector_main(void *arg)
{
	struct egress_gateway *g = arg;
	char err[512];
	while (!kube_stop_sleep(g->stop, EGRESS_COLLECT_MS))
		if (egress_collect(g->cfg.metrics, &g->cfg.env, err, sizeof(err)) < 0)
			log_error("failed to collect metrics", "error", err);
	return NULL;
}

/* ---- lifecycle ---- */

static int setup_kernel(struct egress_gateway *g, char *err, size_t errlen)
{
	int rc = nl_sock_open(&g->sock, err, errlen);
	if (rc == 0)
		rc = founat_init(&g->sock, &g->fou, err, errlen);
	if (rc == 0)
		rc = egress_natserver_init(&g->sock, &g->nat, err, errlen);
	return rc;
}

static int start_watching(struct egress_gateway *g, struct kube_client *client, char *err,
			  size_t errlen)
{
	struct egress_peer_ops ops = {.add_peer = op_add_peer, .del_peer = op_del_peer, .arg = g};
	g->watch = egress_watch_new(&ops, g->cfg.metrics, g->cfg.env.ns, g->cfg.env.name);
	g->queue = workqueue_new(RETRY_BASE_MS, RETRY_MAX_MS);
	g->stop = kube_stop_new();
	if (!g->watch || !g->queue || !g->stop)
		return errorf(err, errlen, -ENOMEM, "out of memory");
	struct kube_informer_opts io = {
	    .res = &KUBE_RES_PODS,
	    .handlers = {
		.on_add = enqueue, .on_update = on_update, .on_delete = enqueue, .arg = g}};
	int rc = kube_informer_new(client, &io, &g->informer, err, errlen);
	if (rc == 0)
		rc = kube_informer_start(g->informer, err, errlen);
	if (rc == 0 && pthread_create(&g->worker, NULL, worker_main, g) == 0)
		g->worker_started = true;
	else if (rc == 0)
		rc = errorf(err, errlen, -EAGAIN, "start the pod worker thread");
	if (rc == 0 && pthread_create(&g->collector, NULL, collector_main, g) == 0)
		g->collector_started = true;
	else if (rc == 0)
		rc = errorf(err, errlen, -EAGAIN, "start the metrics collector thread");
	return rc;
}

int egress_gateway_start(struct kube_client *client, const struct egress_gateway_config *cfg,
			 struct egress_gateway **out, char *err, size_t errlen)
{
	*out = NULL;
	struct egress_gateway *g = calloc(1, sizeof(*g));
	if (!g)
		return errorf(err, errlen, -ENOMEM, "out of memory");
	g->cfg = *cfg;
	g->fou = (struct founat_config){
	    .port = cfg->port, .local4 = cfg->env.local4, .local6 = cfg->env.local6};
	g->nat = (struct egress_natserver){
	    .local4 = cfg->env.local4, .local6 = cfg->env.local6, .backend = cfg->backend};
	snprintf(g->nat.oif, sizeof(g->nat.oif), "%s", EGRESS_INTERFACE);
	int rc = egress_metrics_declare(cfg->metrics);
	if (rc < 0)
		rc = errorf(err, errlen, rc, "declare the metrics");
	if (rc == 0)
		rc = setup_kernel(g, err, errlen);
	if (rc == 0)
		rc = start_watching(g, client, err, errlen);
	if (rc < 0) {
		egress_gateway_free(g);
		return rc;
	}
	*out = g;
	return 0;
}

int egress_gateway_ready(void *gateway, char *err, size_t errlen)
{
	struct egress_gateway *g = gateway;
	if (atomic_load(&g->synced))
		return 0;
	return errorf(err, errlen, -EAGAIN, "initial pod sync not yet complete");
}

int egress_gateway_wait(struct egress_gateway *g, char *err, size_t errlen)
{
	while (!kube_stop_sleep(g->stop, 60000))
		;
	int rc = atomic_load(&g->failure);
	if (rc < 0)
		return errorf(err, errlen, rc, "%s", g->failure_msg);
	return 0;
}

void egress_gateway_stop(struct egress_gateway *g)
{
	kube_stop_signal(g->stop);
	workqueue_shutdown(g->queue);
}

void egress_gateway_free(struct egress_gateway *g)
{
	if (!g)
		return;
	if (g->stop)
		kube_stop_signal(g->stop);
	if (g->queue)
		workqueue_shutdown(g->queue);
	if (g->worker_started)
		pthread_join(g->worker, NULL);
	if (g->collector_started)
		pthread_join(g->collector, NULL);
	if (g->informer) {
		kube_informer_stop(g->informer);
		kube_informer_free(g->informer);
	}
	workqueue_free(g->queue);
	kube_stop_free(g->stop);
	egress_watch_free(g->watch);
	nl_sock_close(&g->sock);
	free(g);
}
