/* coil router (alias coil-router): flags and wiring; the work is in lib/router. */
#include "applets.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "log/log.h"
#include "router/router.h"
#include "runtime/runtime.h"

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

static void stop_router(void *arg)
{
	router_stop(arg);
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

/* Runs the router with its HTTP servers until a signal (0) or a failed sync (1). Both
 * probes are plain pings, as upstream. */
static int serve(struct router *router, struct metrics *registry)
{
	char err[1024];
	struct runtime *rt = NULL;
	struct runtime_opts ro = {.metrics_addr = opts.metrics_addr,
				  .health_addr = opts.health_addr,
				  .metrics = registry,
				  .on_stop = stop_router,
				  .arg = router};
	if (runtime_start(&ro, &rt, err, sizeof(err)) < 0)
		return fail("failed to start the HTTP servers", err);
	log_info("starting coil router", "version", COIL_COMPAT_VERSION);
	int rc = router_run(router, err, sizeof(err));
	runtime_stop(rt); /* no router_stop after this: the router can go */
	if (rc < 0)
		return fail("coil router stopped: route synchronization failed", err);
	return 0;
}

static const struct runtime_program program = {
    .name = "coil-router", .usage = usage, .flags = router_flags, .nflags = N_FLAGS};

int router_main(int argc, char **argv)
{
	char err[1024];
	const char *node = NULL;
	int rc = runtime_parse(&program, argc, argv);
	if (rc != RUNTIME_CONTINUE)
		return rc;
	if (check_options(&node, err, sizeof(err)) < 0)
		return fail("invalid configuration", err);
	struct kube_client *client = NULL;
	if (connect_api(&client, err, sizeof(err)) < 0)
		return fail("failed to configure the Kubernetes client", err);
	struct metrics *registry = metrics_new();
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
	rc = serve(router, registry);
	router_free(router);
	kube_client_free(client);
	metrics_free(registry);
	return rc;
}
