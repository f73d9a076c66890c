/* coil egress (alias coil-egress): flags and wiring; the work is in lib/egress. */
#include "applets.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "egress/egress.h"
#include "log/log.h"
#include "runtime/runtime.h"

static const char usage[] =
    "Usage: coil egress [flags]   (alias: coil-egress)\n"
    "\n"
    "Runs in each gateway pod of an Egress: listens for Foo-over-UDP, keeps one tunnel per\n"
    "client pod of the Egress, routes replies back through the tunnels and masquerades what\n"
    "leaves eth0. COIL_POD_NAMESPACE, COIL_EGRESS_NAME and COIL_POD_ADDRESSES must be set.\n";

static struct {
	const char *metrics_addr, *health_addr, *backend;
	int fou_port;
	bool sport_auto;
} opts = {
    .metrics_addr = ":8080",
    .health_addr = ":8081",
    .backend = "iptables",
    .fou_port = FOUNAT_DEFAULT_PORT,
};

static const struct flag egress_flags[] = {
    {"metrics-addr", FLAG_STRING, &opts.metrics_addr, "bind address of metrics endpoint"},
    {"health-addr", FLAG_STRING, &opts.health_addr, "bind address of health/readiness probes"},
    {"fou-port", FLAG_INT, &opts.fou_port, "port number for foo-over-udp tunnels"},
    {"enable-sport-auto", FLAG_BOOL, &opts.sport_auto, "enable automatic source port assignment"},
    {"backend", FLAG_STRING, &opts.backend, "backend for egress NAT rules: iptables or nftables"},
};

#define N_FLAGS (sizeof(egress_flags) / sizeof(egress_flags[0]))

static int fail(const char *what, const char *err)
{
	log_error(what, "error", err);
	return 1;
}

static int configure(struct egress_gateway_config *cfg, char *err, size_t len)
{
	int rc = natrules_backend_parse(opts.backend, &cfg->backend, err, len);
	if (rc < 0)
		return rc;
	if (opts.fou_port < 1 || opts.fou_port > 65535) {
		snprintf(err, len, "invalid --fou-port %d: must be 1..65535", opts.fou_port);
		return -EINVAL;
	}
	cfg->port = (uint16_t)opts.fou_port;
	cfg->sport_auto = opts.sport_auto;
	return egress_env_parse(getenv("COIL_POD_NAMESPACE"), getenv("COIL_EGRESS_NAME"),
				getenv("COIL_POD_ADDRESSES"), getenv("HOSTNAME"), &cfg->env, err,
				len);
}

static int connect_api(struct kube_client **client, char *err, size_t len)
{
	struct kube_config *kc = NULL;
	int rc = kube_config_load(NULL, NULL, &kc, err, len);
	if (rc == 0)
		rc = kube_client_new(kc, NULL, client, err, len);
	kube_config_free(kc);
	return rc;
}

static void stop_gateway(void *arg)
{
	egress_gateway_stop(arg);
}

/* Serves metrics and probes until a signal (0) or a fatal worker error (1). */
static int serve(struct egress_gateway *g, struct metrics *registry)
{
	char err[1024];
	struct runtime *rt = NULL;
	struct runtime_opts ro = {.metrics_addr = opts.metrics_addr,
				  .health_addr = opts.health_addr,
				  .metrics = registry,
				  .ready = egress_gateway_ready,
				  .check_name = "pod-sync",
				  .ready_arg = g,
				  .on_stop = stop_gateway,
				  .arg = g};
	if (runtime_start(&ro, &rt, err, sizeof(err)) < 0)
		return fail("failed to start the HTTP servers", err);
	int rc = egress_gateway_wait(g, err, sizeof(err));
	runtime_stop(rt);
	return rc < 0 ? fail("coil egress stopped", err) : 0;
}

static const struct runtime_program program = {
    .name = "coil-egress", .usage = usage, .flags = egress_flags, .nflags = N_FLAGS};

int egress_main(int argc, char **argv)
{
	char err[1024];
	int rc = runtime_parse(&program, argc, argv);
	if (rc != RUNTIME_CONTINUE)
		return rc;
	struct egress_gateway_config cfg = {0};
	if (configure(&cfg, err, sizeof(err)) < 0)
		return fail("invalid configuration", err);
	char a4[NL_IP_STRLEN], a6[NL_IP_STRLEN];
	log_info("starting coil egress", "version", COIL_COMPAT_VERSION, "ipv4",
		 nl_ip_format(&cfg.env.local4, a4, sizeof(a4)), "ipv6",
		 nl_ip_format(&cfg.env.local6, a6, sizeof(a6)));
	struct kube_client *client = NULL;
	if (connect_api(&client, err, sizeof(err)) < 0)
		return fail("failed to configure the Kubernetes client", err);
	cfg.metrics = metrics_new();
	struct egress_gateway *g = NULL;
	if (!cfg.metrics || egress_gateway_start(client, &cfg, &g, err, sizeof(err)) < 0) {
		kube_client_free(client);
		metrics_free(cfg.metrics);
		return fail("failed to set up the egress gateway",
			    cfg.metrics ? err : "out of memory");
	}
	rc = serve(g, cfg.metrics);
	egress_gateway_free(g);
	kube_client_free(client);
	metrics_free(cfg.metrics);
	return rc;
}
