/* coil ipam-controller (coil-ipam-controller): flags and wiring. Every replica serves the
 * AddressPool webhooks, /metrics, /healthz and /readyz; the replica holding the Lease
 * kube-system/coil-ipam-leader runs the controller of lib/ipamctl. Losing the lease ends the
 * process with status 1 (the orchestrator restarts it), as upstream. */
#include "applets.h"

#include <errno.h>
#include <stdio.h>

#include "certrotate/certrotate.h"
#include "ipamctl/ipamctl.h"
#include "log/log.h"
#include "runtime/runtime.h"
#include "webhook/webhook.h"

static const char usage[] =
    "Usage: coil ipam-controller [flags]   (alias: coil-ipam-controller)\n"
    "\n"
    "Carves AddressBlocks for BlockRequests (leader only), collects blocks of deleted\n"
    "nodes and serves the AddressPool admission webhooks. Kubernetes access from\n"
    "--kubeconfig, else $KUBECONFIG, else the in-cluster service account.\n"
    "Leader-election timings can be changed with COIL_LEADER_LEASE_DURATION,\n"
    "COIL_LEADER_RENEW_DEADLINE and COIL_LEADER_RETRY_PERIOD (Go durations).\n";

#define LEASE_NAMESPACE "kube-system"
#define LEASE_NAME	"coil-ipam-leader"

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
	struct webhook_server *webhook;
	struct kube_client *client;
	struct kube_stop *stop; /* the runtime's */
	struct ipamctl_pool_manager *pools;
	struct ipamctl_controller *controller;
	struct certrotate *rotator;
	bool leader_failed, rotator_failed;
} state;

static int fail_startup(const char *what, const char *err)
{
	log_error(what, "error", err);
	return 1;
}

static int check_webhook(void *arg, char *err, size_t errlen)
{
	return webhook_server_check_ready(state.webhook, err, errlen);
}

static void started_leading(void *arg, struct kube_stop *lost)
{
	char err[1024];
	struct ipamctl_controller_config cfg = {.client = state.client,
						.gc_interval_ms = (long)(opts.gc_interval * 1000)};
	int ret =
	    ipamctl_pool_manager_new(state.client, state.metrics, &state.pools, err, sizeof(err));
	if (ret == 0) {
		cfg.pools = ipamctl_pool_manager_ops(state.pools);
		ret = ipamctl_controller_start(&cfg, &state.controller, err, sizeof(err));
	}
	if (ret) {
		log_error("failed to start the controller", "error", err);
		state.leader_failed = true;
		kube_stop_signal(state.stop);
	}
}

static void stopped_leading(void *arg)
{
	ipamctl_controller_stop(state.controller);
	state.controller = NULL;
	ipamctl_pool_manager_free(state.pools);
	state.pools = NULL;
}

/* --enable-restart-on-cert-refresh: end the process (status 0) so the pod restarts and
 * mounts the new Secret, as upstream. Runs on the rotator thread. */
static void cert_refreshed(void *arg)
{
	log_info("secrets have been updated; exiting so the pod can be restarted");
	kube_stop_signal(state.stop);
}

static void rotator_failed(void *arg, const char *err)
{
	log_error("webhook certificate rotation failed", "error", err);
	state.rotator_failed = true;
	kube_stop_signal(state.stop);
}

/* Rotation mode (--enable-cert-rotation): runs on every replica, before and apart from the
 * election. */
static int start_cert_rotation(char *err, size_t errlen)
{
	struct certrotate_opts ro = {.client = state.client,
				     .names = &CERTROTATE_IPAM,
				     .cert_dir = opts.cert_dir,
				     .stop_after_secret_write = opts.restart_on_refresh,
				     .on_secret_written = cert_refreshed,
				     .on_failure = rotator_failed};
	if (!opts.cert_rotation)
		return 0;
	return certrotate_start(&ro, &state.rotator, err, errlen);
}

static int check_options(char *err, size_t errlen)
{
	if (opts.gc_interval <= 0) {
		snprintf(err, errlen, "--gc-interval must be positive");
		return -EINVAL;
	}
	return 0;
}

static int connect_api(struct kube_config **config, char *err, size_t errlen)
{
	int ret = kube_config_load(opts.kubeconfig, NULL, config, err, errlen);
	if (ret == 0)
		ret = kube_client_new(*config, NULL, &state.client, err, errlen);
	return ret;
}

/* The certificate rotator, then the election until stop or loss; the exit status. */
static int rotate_and_lead(struct runtime *rt, const struct kube_config *config)
{
	char err[1024];
	state.stop = runtime_stop_token(rt);
	if (start_cert_rotation(err, sizeof(err)) < 0)
		return fail_startup("failed to start the certificate rotator", err);
	int ret = runtime_lead(rt, config, LEASE_NAMESPACE, LEASE_NAME, started_leading,
			       stopped_leading, NULL, err, sizeof(err));
	if (ret < 0)
		log_error(ret == -ENOLINK ? "leader election lost" : "leader election failed",
			  "error", err);
	certrotate_stop(state.rotator); /* joined: its failure flag is visible now */
	state.rotator = NULL;
	return ret < 0 || state.leader_failed || state.rotator_failed ? 1 : 0;
}

/* Everything after the flags: servers, then the election until stop or loss. */
static int run_controller(void)
{
	char err[1024];
	struct kube_config *config = NULL;
	struct runtime *rt = NULL;
	struct runtime_opts ro = {.metrics_addr = opts.metrics_addr,
				  .health_addr = opts.health_addr,
				  .metrics = state.metrics,
				  .ready = check_webhook,
				  .check_name = "webhook"};
	int rc = 1;
	if (connect_api(&config, err, sizeof(err)) < 0) {
		kube_config_free(config);
		return fail_startup("failed to set up the Kubernetes client", err);
	}
	if (webhook_server_start(opts.webhook_addr, opts.cert_dir, WEBHOOK_POOL_KINDS, 2,
				 &state.webhook, err, sizeof(err)) < 0)
		fail_startup("failed to start the webhook server", err);
	else if (runtime_start(&ro, &rt, err, sizeof(err)) < 0)
		fail_startup("failed to start the HTTP servers", err);
	else
		rc = rotate_and_lead(rt, config);
	runtime_stop(rt);
	webhook_server_stop(state.webhook);
	kube_client_free(state.client);
	kube_config_free(config);
	return rc;
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
