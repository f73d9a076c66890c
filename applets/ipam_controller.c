/* coil ipam-controller (coil-ipam-controller): flags and wiring. Every replica serves the
 * AddressPool webhooks, /metrics, /healthz and /readyz; the replica holding the Lease
 * kube-system/coil-ipam-leader runs the controller of lib/ipamctl. Losing the lease ends the
 * process with status 1 (the orchestrator restarts it), as upstream. */
#include "applets.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "certrotate/certrotate.h"
#include "flags/flags.h"
#include "http/http.h"
#include "ipamctl/ipamctl.h"
#include "kube/kube.h"
#include "log/log.h"
#include "metrics/metrics.h"
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
	bool cert_rotation, restart_on_refresh, version;
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
    {"version", FLAG_BOOL, &opts.version, "show version"},
};

#define N_FLAGS (sizeof(controller_flags) / sizeof(controller_flags[0]))

static struct {
	struct metrics *metrics;
	struct webhook_server *webhook;
	struct kube_client *client;
	struct kube_stop *stop;
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

static void serve_metrics(void *ctx, const char *method, const char *path, struct http_reply *reply)
{
	if (strcmp(path, "/metrics") != 0)
		return http_reply_text(reply, 404, "404 page not found\n");
	reply->status = 200;
	reply->body = metrics_render(state.metrics);
	reply->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

/* controller-runtime's answers: "ok", or the per-check listing with status 500. */
static void serve_health(void *ctx, const char *method, const char *path, struct http_reply *reply)
{
	char err[512];
	if (strcmp(path, "/healthz") == 0)
		return http_reply_text(reply, 200, "ok");
	if (strcmp(path, "/readyz") != 0)
		return http_reply_text(reply, 404, "404 page not found\n");
	if (webhook_server_check_ready(state.webhook, err, sizeof(err)) == 0)
		return http_reply_text(reply, 200, "ok");
	log_warn("readiness check failed", "check", "webhook", "error", err);
	http_reply_text(reply, 500,
			"[+]ping ok\n[-]webhook failed: reason withheld\nreadyz check failed\n");
}

/* Turns SIGTERM/SIGINT into a stop of the leader election (and so of everything). */
static void *signal_thread(void *arg)
{
	sigset_t *set = arg;
	for (;;) {
		int sig;
		if (sigwait(set, &sig) == 0 && (sig == SIGTERM || sig == SIGINT)) {
			log_info("shutting down", "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT");
			kube_stop_signal(state.stop);
			return NULL;
		}
	}
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

/* A duration from the environment in ms, or 0 (the default) when unset. */
static int env_duration_ms(const char *name, long *out, char *err, size_t errlen)
{
	const char *text = getenv(name);
	double seconds;
	*out = 0;
	if (!text || !*text)
		return 0;
	if (flags_parse_duration(text, &seconds) < 0 || seconds <= 0) {
		snprintf(err, errlen, "invalid %s: %s", name, text);
		return -EINVAL;
	}
	*out = (long)(seconds * 1000);
	return 0;
}

/* COIL_POD_NAME, else the host name plus a random suffix (like client-go's hostname_uuid). */
static void leader_identity(char *buf, size_t len)
{
	const char *pod = getenv("COIL_POD_NAME");
	char host[256] = "coil-ipam-controller";
	unsigned char rnd[8] = {0};
	if (pod && *pod) {
		snprintf(buf, len, "%s", pod);
		return;
	}
	gethostname(host, sizeof(host) - 1);
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		unsigned long mix =
		    (unsigned long)getpid() * 2654435761u ^ (unsigned long)time(NULL);
		memcpy(rnd, &mix, sizeof(rnd) < sizeof(mix) ? sizeof(rnd) : sizeof(mix));
	}
	snprintf(buf, len, "%s_%02x%02x%02x%02x%02x%02x%02x%02x", host, rnd[0], rnd[1], rnd[2],
		 rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
}

static int leader_options(struct kube_leader_opts *lo, char *identity, size_t idlen, char *err,
			  size_t errlen)
{
	*lo = (struct kube_leader_opts){.ns = LEASE_NAMESPACE,
					.name = LEASE_NAME,
					.release_on_cancel = true,
					.on_started_leading = started_leading,
					.on_stopped_leading = stopped_leading};
	leader_identity(identity, idlen);
	lo->identity = identity;
	if (env_duration_ms("COIL_LEADER_LEASE_DURATION", &lo->lease_duration_ms, err, errlen) ||
	    env_duration_ms("COIL_LEADER_RENEW_DEADLINE", &lo->renew_deadline_ms, err, errlen) ||
	    env_duration_ms("COIL_LEADER_RETRY_PERIOD", &lo->retry_period_ms, err, errlen))
		return -EINVAL;
	return 0;
}

/* Requests of the election must fail fast: a renew that hangs past the deadline is a loss. */
static int leader_client(const struct kube_config *config, const struct kube_leader_opts *lo,
			 struct kube_client **out, char *err, size_t errlen)
{
	long deadline = lo->renew_deadline_ms > 0 ? lo->renew_deadline_ms : 10000;
	struct kube_client_options co = {.max_tries = 1,
					 .timeout_ms = deadline / 2 > 1000 ? deadline / 2 : 1000};
	return kube_client_new(config, &co, out, err, errlen);
}

static int run_election(const struct kube_config *config, char *err, size_t errlen)
{
	char identity[320];
	struct kube_leader_opts lo;
	struct kube_client *election_client = NULL;
	int ret = leader_options(&lo, identity, sizeof(identity), err, errlen);
	if (ret == 0)
		ret = leader_client(config, &lo, &election_client, err, errlen);
	if (ret)
		return ret;
	log_info("waiting for leadership", "lease", LEASE_NAMESPACE "/" LEASE_NAME, "identity",
		 identity);
	ret = kube_leader_run(election_client, &lo, state.stop, err, errlen);
	kube_client_free(election_client);
	return ret;
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

/* Everything after the flags: servers, then the election until stop or loss. */
static int run_controller(sigset_t *signals)
{
	char err[1024];
	struct kube_config *config = NULL;
	struct http_server *metrics_srv = NULL, *health_srv = NULL;
	int rc = 1;
	if (connect_api(&config, err, sizeof(err)) < 0) {
		kube_config_free(config);
		return fail_startup("failed to set up the Kubernetes client", err);
	}
	if (webhook_server_start(opts.webhook_addr, opts.cert_dir, &state.webhook, err,
				 sizeof(err)) < 0)
		fail_startup("failed to start the webhook server", err);
	else if (http_server_start(opts.metrics_addr, serve_metrics, NULL, &metrics_srv, err,
				   sizeof(err)) < 0 ||
		 http_server_start(opts.health_addr, serve_health, NULL, &health_srv, err,
				   sizeof(err)) < 0)
		fail_startup("failed to start the HTTP servers", err);
	else if (start_cert_rotation(err, sizeof(err)) < 0)
		fail_startup("failed to start the certificate rotator", err);
	else {
		pthread_t sig;
		pthread_create(&sig, NULL, signal_thread, signals);
		pthread_detach(sig);
		int ret = run_election(config, err, sizeof(err));
		if (ret < 0)
			log_error(ret == -ENOLINK ? "leader election lost"
						  : "leader election failed",
				  "error", err);
		certrotate_stop(state.rotator); /* joined: its failure flag is visible now */
		state.rotator = NULL;
		rc = ret < 0 || state.leader_failed || state.rotator_failed ? 1 : 0;
	}
	certrotate_stop(state.rotator);
	http_server_stop(health_srv);
	http_server_stop(metrics_srv);
	webhook_server_stop(state.webhook);
	kube_client_free(state.client);
	kube_config_free(config);
	return rc;
}

int ipam_controller_main(int argc, char **argv)
{
	char err[1024];
	int rc = flags_parse(controller_flags, N_FLAGS, argc, argv, usage, err, sizeof(err));
	if (rc != 0) {
		if (rc < 0)
			fprintf(stderr, "coil ipam-controller: %s\n", err);
		return rc < 0 ? 2 : 0;
	}
	if (opts.version) {
		printf("coil-ipam-controller version %s\n", COIL_COMPAT_VERSION);
		return 0;
	}
	if (check_options(err, sizeof(err)) < 0)
		return fail_startup("invalid configuration", err);

	/* Signals are taken by one thread with sigwait; every other thread blocks them. */
	static sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	state.metrics = metrics_new();
	state.stop = kube_stop_new();
	if (!state.metrics || !state.stop || ipamctl_metrics_declare(state.metrics) < 0)
		rc = fail_startup("failed to start", "out of memory");
	else
		rc = run_controller(&set);
	kube_stop_free(state.stop);
	metrics_free(state.metrics);
	return rc;
}
