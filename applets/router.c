/* coil router (alias coil-router): flags and wiring; the work is in lib/router. */
#include "applets.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flags/flags.h"
#include "http/http.h"
#include "kube/kube.h"
#include "log/log.h"
#include "metrics/metrics.h"
#include "router/router.h"

static const char usage[] =
    "Usage: coil router [flags]   (alias: coil-router)\n"
    "\n"
    "Programs the main routing table to route Pod packets between nodes: every other\n"
    "node's AddressBlocks go via that node's InternalIP. No routing protocol is spoken,\n"
    "so this works only for clusters whose nodes are all in one flat L2 network.\n"
    "COIL_NODE_NAME must name this node.\n";

static struct {
	const char *metrics_addr, *health_addr, *kubeconfig;
	int protocol;
	double update_interval;
} opts = {
    .metrics_addr = ":9388",
    .health_addr = ":9389",
    .protocol = ROUTER_DEFAULT_PROTOCOL,
    .update_interval = 600,
};

static const struct flag router_flags[] = {
    {"metrics-addr", FLAG_STRING, &opts.metrics_addr, "bind address of metrics endpoint"},
    {"health-addr", FLAG_STRING, &opts.health_addr, "bind address of health/readiness probes"},
    {"protocol-id", FLAG_INT, &opts.protocol, "route author ID"},
    {"update-interval", FLAG_DURATION, &opts.update_interval, "interval for forced route update"},
    {"kubeconfig", FLAG_STRING, &opts.kubeconfig,
     "path to a kubeconfig (default: $KUBECONFIG, in-cluster, ~/.kube/config)"},
};

#define N_FLAGS (sizeof(router_flags) / sizeof(router_flags[0]))

static struct metrics *registry;

static void serve_metrics(void *ctx, const char *method, const char *path, struct http_reply *reply)
{
	if (strcmp(path, "/metrics") != 0)
		return http_reply_text(reply, 404, "404 page not found\n");
	reply->status = 200;
	reply->body = metrics_render(registry);
	reply->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

/* Both probes are plain pings, as upstream. */
static void serve_health(void *ctx, const char *method, const char *path, struct http_reply *reply)
{
	if (strcmp(path, "/healthz") == 0 || strcmp(path, "/readyz") == 0)
		return http_reply_text(reply, 200, "ok");
	http_reply_text(reply, 404, "404 page not found\n");
}

struct signal_ctx {
	sigset_t set;
	pthread_mutex_t lock;
	struct router *router; /* NULL once the router is gone; guarded by lock */
};

static void *signal_thread(void *arg)
{
	struct signal_ctx *ctx = arg;
	int sig;
	while (sigwait(&ctx->set, &sig) != 0)
		;
	log_info("shutting down", "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	pthread_mutex_lock(&ctx->lock);
	if (ctx->router)
		router_stop(ctx->router);
	pthread_mutex_unlock(&ctx->lock);
	return NULL;
}

static int check_options(const char **node, char *err, size_t len)
{
	*node = getenv("COIL_NODE_NAME");
	if (!*node || !**node) {
		snprintf(err, len, "COIL_NODE_NAME environment variable must be set");
		return -EINVAL;
	}
	if (opts.protocol < 1 || opts.protocol > 255) {
		snprintf(err, len, "invalid --protocol-id %d: must be 1..255", opts.protocol);
		return -EINVAL;
	}
	if (opts.update_interval * 1000 < 1) {
		snprintf(err, len, "invalid --update-interval: must be positive");
		return -EINVAL;
	}
	return 0;
}

static int connect_api(struct kube_client **client, char *err, size_t len)
{
	struct kube_config *cfg = NULL;
	int rc = kube_config_load(opts.kubeconfig, NULL, &cfg, err, len);
	if (rc == 0)
		rc = kube_client_new(cfg, NULL, client, err, len);
	kube_config_free(cfg);
	return rc;
}

static int fail(const char *what, const char *err)
{
	log_error(what, "error", err);
	return 1;
}

/* Runs the router with its HTTP servers until a signal (0) or a failed sync (1). */
static int serve(struct router *router, struct signal_ctx *sig)
{
	char err[1024];
	struct http_server *metrics_srv = NULL, *health_srv = NULL;
	if (http_server_start(opts.metrics_addr, serve_metrics, NULL, &metrics_srv, err,
			      sizeof(err)) < 0 ||
	    http_server_start(opts.health_addr, serve_health, NULL, &health_srv, err, sizeof(err)) <
		0) {
		http_server_stop(metrics_srv);
		return fail("failed to start the HTTP servers", err);
	}
	pthread_t t;
	pthread_mutex_lock(&sig->lock);
	sig->router = router;
	pthread_mutex_unlock(&sig->lock);
	pthread_create(&t, NULL, signal_thread, sig);
	pthread_detach(t);
	log_info("starting coil router", "version", COIL_COMPAT_VERSION);
	int rc = router_run(router, err, sizeof(err));
	pthread_mutex_lock(&sig->lock);
	sig->router = NULL;
	pthread_mutex_unlock(&sig->lock);
	http_server_stop(health_srv);
	http_server_stop(metrics_srv);
	if (rc < 0)
		return fail("coil router stopped: route synchronization failed", err);
	return 0;
}

int router_main(int argc, char **argv)
{
	char err[1024];
	const char *node = NULL;
	int rc = flags_parse(router_flags, N_FLAGS, argc, argv, usage, err, sizeof(err));
	if (rc != 0) {
		if (rc < 0)
			fprintf(stderr, "coil router: %s\n", err);
		return rc < 0 ? 2 : 0;
	}
	if (check_options(&node, err, sizeof(err)) < 0)
		return fail("invalid configuration", err);

	/* Signals are taken by one thread with sigwait; every other thread blocks them. */
	static struct signal_ctx sig = {.lock = PTHREAD_MUTEX_INITIALIZER};
	sigemptyset(&sig.set);
	sigaddset(&sig.set, SIGTERM);
	sigaddset(&sig.set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sig.set, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct kube_client *client = NULL;
	if (connect_api(&client, err, sizeof(err)) < 0)
		return fail("failed to configure the Kubernetes client", err);
	registry = metrics_new();
	struct router_kernel_syncer syncer = {.protocol = (unsigned char)opts.protocol};
	struct router_config cfg = {.node_name = node,
				    .update_interval_ms = (long)(opts.update_interval * 1000),
				    .sync = router_kernel_sync,
				    .sync_arg = &syncer,
				    .metrics = registry};
	struct router *router = NULL;
	if (!registry || router_new(client, &cfg, &router, err, sizeof(err)) < 0) {
		kube_client_free(client);
		metrics_free(registry);
		return fail("failed to set up the router", registry ? err : "out of memory");
	}
	rc = serve(router, &sig);
	router_free(router);
	kube_client_free(client);
	metrics_free(registry);
	return rc;
}
