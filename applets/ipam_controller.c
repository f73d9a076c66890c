/* coil ipam-controller (coil-ipam-controller): flags and wiring. The process of lib/ctlrun
 * serving the AddressPool webhooks; the replica holding the Lease kube-system/coil-ipam-leader
 * runs the controller of lib/ipamctl. */
#include "applets.h"

#include <errno.h>
#include <stdio.h>

#include "ctlrun/ctlrun.h"
#include "ipamctl/ipamctl.h"
#include "log/log.h"
#include "runtime/runtime.h"

static const char usage[] =
    "Usage: coil ipam-controller [flags]   (alias: coil-ipam-controller)\n"
    "\n"
    "Carves AddressBlocks for BlockRequests (leader only), collects blocks of deleted\n"
    "nodes and serves the AddressPool admission webhooks. Kubernetes access from\n"
    "--kubeconfig, else $KUBECONFIG, else the in-cluster service account.\n"
    "Leader-election timings can be changed with COIL_LEADER_LEASE_DURATION,\n"
    "COIL_LEADER_RENEW_DEADLINE and COIL_LEADER_RETRY_PERIOD (Go durations).\n";

#define LEASE_NAME "coil-ipam-leader" /* in kube-system */

static struct ctlrun_spec spec = {
    .metrics_addr = ":9386",
    .health_addr = ":9387",
    .webhook_addr = ":9443",
    .cert_dir = "/certs",
    .webhooks = WEBHOOK_POOL_KINDS,
    .n_webhooks = 2,
    .cert_names = &CERTROTATE_IPAM,
    .lease_name = LEASE_NAME,
};
static double gc_interval = 3600;

static const struct flag controller_flags[] = {
    CTLRUN_FLAGS(spec),
    {"gc-interval", FLAG_DURATION, &gc_interval, "garbage collection interval"},
};

#define N_FLAGS (sizeof(controller_flags) / sizeof(controller_flags[0]))

static struct {
	struct metrics *metrics;
	struct ipamctl_pool_manager *pools;
	struct ipamctl_controller *controller;
} state;

static int start_leading(void *arg, struct kube_client *client, char *err, size_t errlen)
{
	struct ipamctl_controller_config cfg = {.client = client,
						.gc_interval_ms = (long)(gc_interval * 1000)};
	int ret = ipamctl_pool_manager_new(client, state.metrics, &state.pools, err, errlen);
	if (ret == 0) {
		cfg.pools = ipamctl_pool_manager_ops(state.pools);
		ret = ipamctl_controller_start(&cfg, &state.controller, err, errlen);
	}
	return ret;
}

static void stop_leading(void *arg)
{
	ipamctl_controller_stop(state.controller);
	state.controller = NULL;
	ipamctl_pool_manager_free(state.pools);
	state.pools = NULL;
}

static int check_options(char *err, size_t errlen)
{
	if (gc_interval <= 0) {
		snprintf(err, errlen, "--gc-interval must be positive");
		return -EINVAL;
	}
	return 0;
}

static const struct runtime_program program = {
    .name = "coil-ipam-controller", .usage = usage, .flags = controller_flags, .nflags = N_FLAGS};

int ipam_controller_main(int argc, char **argv)
{
	char err[1024];
	int rc = runtime_parse(&program, argc, argv);
	if (rc != RUNTIME_CONTINUE)
		return rc;
	if (check_options(err, sizeof(err)) < 0)
		return ctlrun_fail("invalid configuration", err);
	state.metrics = metrics_new();
	if (!state.metrics || ipamctl_metrics_declare(state.metrics) < 0)
		rc = ctlrun_fail("failed to start", "out of memory");
	else {
		spec.metrics = state.metrics;
		spec.start_leading = start_leading;
		spec.stop_leading = stop_leading;
		rc = ctlrun_main(&spec);
	}
	metrics_free(state.metrics);
	return rc;
}
