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

static struct {
	const char *metrics_addr, *health_addr, *webhook_addr, *cert_dir, *kubeconfig;
	double gc_interval;
	bool cert_rotation, restart_on_refresh;
} opts = {
    .metrics_addr = ":9386",
    .health_addr = ":9387",
    .webhook_addr = ":9443",
    .cert_dir = "/certs",
    .gc_interval = 3600,
};

static const struct flag controller_flags[] = {
    {"metrics-addr", FLAG_STRING, &opts.metrics_addr, "bind address of metrics endpoint"},
    {"health-addr", FLAG_STRING, &opts.health_addr, "bind address of health/readiness probes"},
    {"webhook-addr", FLAG_STRING, &opts.webhook_addr, "bind address of admission webhook"},
    {"cert-dir", FLAG_STRING, &opts.cert_dir, "directory to locate TLS certs for webhook"},
    {"gc-interval", FLAG_DURATION, &opts.gc_interval, "garbage collection interval"},
    {"enable-cert-rotation", FLAG_BOOL, &opts.cert_rotation,
     "enables webhook's certificate generation"},
    {"enable-restart-on-cert-refresh", FLAG_BOOL, &opts.restart_on_refresh,
     "enables pod restart on webhook's certificate refresh"},
    {"kubeconfig", FLAG_STRING, &opts.kubeconfig, "path to a kubeconfig file"},
};

#define N_FLAGS (sizeof(controller_flags) / sizeof(controller_flags[0]))

static struct {
	struct metrics *metrics;
	struct ipamctl_pool_manager *pools;
	struct ipamctl_controller *controller;
} state;

static int fail_startup(const char *what, const char *err)
{
	log_error(what, "error", err);
	return 1;
}

static int start_leading(void *arg, struct kube_client *client, char *err, size_t errlen)
{
	struct ipamctl_controller_config cfg = {.client = client,
						.gc_interval_ms = (long)(opts.gc_interval * 1000)};
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
	if (opts.gc_interval <= 0) {
		snprintf(err, errlen, "--gc-interval must be positive");
		return -EINVAL;
	}
	return 0;
}

static int run_controller(void)
{
	struct ctlrun_spec spec = {.metrics_addr = opts.metrics_addr,
				   .health_addr = opts.health_addr,
				   .webhook_addr = opts.webhook_addr,
				   .cert_dir = opts.cert_dir,
				   .kubeconfig = opts.kubeconfig,
				   .cert_rotation = opts.cert_rotation,
				   .restart_on_refresh = opts.restart_on_refresh,
				   .webhooks = WEBHOOK_POOL_KINDS,
				   .n_webhooks = 2,
				   .cert_names = &CERTROTATE_IPAM,
				   .lease_name = LEASE_NAME,
				   .metrics = state.metrics,
				   .start_leading = start_leading,
				   .stop_leading = stop_leading};
	return ctlrun_main(&spec);
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
		return fail_startup("invalid configuration", err);
	state.metrics = metrics_new();
	if (!state.metrics || ipamctl_metrics_declare(state.metrics) < 0)
		rc = fail_startup("failed to start", "out of memory");
	else
		rc = run_controller();
	metrics_free(state.metrics);
	return rc;
}
