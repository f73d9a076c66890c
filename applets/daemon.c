/* coil daemon (coild): flags and wiring of the node daemon. The work is in lib/coild. */
#include "applets.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coild/coild.h"
#include "coild/server.h"
#include "kubesource/kubesource.h"
#include "log/log.h"
#include "runtime/runtime.h"
#include "standalone/standalone.h"

static const char usage[] =
    "Usage: coil daemon [flags]   (alias: coild)\n"
    "\n"
    "The node daemon: hands out pod addresses from this node's blocks, sets up pod\n"
    "networks for the coil CNI plugin and exports the blocks to a routing table.\n"
    "With --standalone, pools come from a manifest file (--config) and blocks are\n"
    "kept in --state-dir; no Kubernetes is needed. Without it, blocks come from the\n"
    "Kubernetes API (--kubeconfig, else KUBECONFIG, else in-cluster) through\n"
    "BlockRequests. COIL_NODE_NAME names the node (required with Kubernetes; default:\n"
    "the host name in standalone mode). With Kubernetes it also sets up the egress NAT\n"
    "client in pods annotated egress.coil.cybozu.com/<namespace>; --enable-ipam=false\n"
    "runs only that, chained after another CNI.\n";

struct daemon_opts {
	const char *metrics_addr, *health_addr, *socket, *backend;
	const char *config, *state_dir, *node_ipv4, *node_ipv6, *log_level, *kubeconfig;
	int export_table, protocol, pod_table, pod_rule_prio, egress_port, mtu;
	bool enable_ipam, enable_egress, clear_routes, register_from_main, compat_calico;
	bool originating_only, standalone;
	double gc_interval, empty_block_grace;
};

static struct daemon_opts opts = {
    .metrics_addr = ":9384",
    .health_addr = ":9385",
    .socket = "/run/coild.sock",
    .backend = "iptables",
    .state_dir = "/var/lib/coil",
    .log_level = "info",
    .export_table = 119,
    .protocol = 30,
    .pod_table = 116,
    .pod_rule_prio = 2000,
    .egress_port = 5555,
    .enable_ipam = true,
    .enable_egress = true,
    .gc_interval = 300,
    .empty_block_grace = 300,
};

static const struct flag daemon_flags[] = {
    {"metrics-addr", FLAG_STRING, &opts.metrics_addr, "bind address of metrics endpoint"},
    {"health-addr", FLAG_STRING, &opts.health_addr, "bind address of health/readiness probes"},
    {"socket", FLAG_STRING, &opts.socket, "UNIX domain socket path"},
    {"export-table-id", FLAG_INT, &opts.export_table, "routing table ID to export routes"},
    {"protocol-id", FLAG_INT, &opts.protocol, "route author ID"},
    {"pod-table-id", FLAG_INT, &opts.pod_table, "routing table ID for pod routes"},
    {"pod-rule-prio", FLAG_INT, &opts.pod_rule_prio, "priority of the rule for the pod table"},
    {"compat-calico", FLAG_BOOL, &opts.compat_calico, "make veth names compatible with Calico"},
    {"egress-port", FLAG_INT, &opts.egress_port, "UDP port number for egress NAT"},
    {"register-from-main", FLAG_BOOL, &opts.register_from_main,
     "also register pod addresses found in the main routing table"},
    {"enable-ipam", FLAG_BOOL, &opts.enable_ipam, "enable IPAM related features"},
    {"enable-egress", FLAG_BOOL, &opts.enable_egress, "enable egress related features"},
    {"addressblock-gc-interval", FLAG_DURATION, &opts.gc_interval,
     "interval of the address block garbage collection"},
    {"empty-block-grace", FLAG_DURATION, &opts.empty_block_grace,
     "how long a block its last pod left stays before a GC releases it (0: at once)"},
    {"clear-routes-on-shutdown", FLAG_BOOL, &opts.clear_routes,
     "empty the export table on shutdown"},
    {"backend", FLAG_STRING, &opts.backend, "backend for egress NAT rules: iptables, nftables"},
    {"enable-originating-only", FLAG_BOOL, &opts.originating_only,
     "route only connections originating in client pods through egress"},
    {"standalone", FLAG_BOOL, &opts.standalone, "take pools from --config instead of Kubernetes"},
    {"config", FLAG_STRING, &opts.config, "standalone: YAML manifest of AddressPools/Namespaces"},
    {"kubeconfig", FLAG_STRING, &opts.kubeconfig,
     "kubeconfig file (default: KUBECONFIG, else in-cluster configuration)"},
    {"state-dir", FLAG_STRING, &opts.state_dir, "directory of blocks and address records"},
    {"node-ipv4", FLAG_STRING, &opts.node_ipv4,
     "node IPv4 address for the host side of veths (default: source of the default route)"},
    {"node-ipv6", FLAG_STRING, &opts.node_ipv6,
     "node IPv6 address for the host side of veths (default: source of the default route)"},
    {"mtu", FLAG_INT, &opts.mtu, "MTU of pod veths (0: detect)"},
    {"log-level", FLAG_STRING, &opts.log_level, "debug, info, warn or error"},
};

#define N_FLAGS (sizeof(daemon_flags) / sizeof(daemon_flags[0]))

static struct {
	struct coild *coild;
	struct metrics *metrics;
	struct block_source source;
	struct kubesource *kube; /* Kubernetes mode only */
	struct socket_server *server;
} state;

/* The Egress watcher's updates go to the daemon (arg). */
static int nat_update(void *arg, const char *pod_uid, const struct nl_ip *ipv4,
		      const struct nl_ip *ipv6, const struct natclient_gateways *gws, char *err,
		      size_t errlen)
{
	return coild_nat_update(arg, pod_uid, ipv4, ipv6, gws, err, errlen);
}

static int fail_startup(const char *what, const char *err)
{
	log_error(what, "error", err);
	return 1;
}

static int build_config(struct coild_config *cfg, char *err, size_t len)
{
	podnet_config_default(&cfg->podnet);
	cfg->podnet.table = (uint32_t)opts.pod_table;
	cfg->podnet.protocol = (unsigned char)opts.protocol;
	cfg->podnet.rule_priority = (uint32_t)opts.pod_rule_prio;
	cfg->podnet.mtu = (unsigned)opts.mtu;
	cfg->podnet.compat_calico = opts.compat_calico;
	cfg->export_table = (uint32_t)opts.export_table;
	cfg->state_dir = opts.state_dir;
	cfg->default_pool = "default";
	cfg->register_from_main = opts.register_from_main;
	cfg->empty_block_grace_ms = (long)(opts.empty_block_grace * 1000);
	cfg->egress_only = !opts.enable_ipam;
	/* With Kubernetes, an address not given comes from the Node (use_kubernetes). */
	if (podnet_node_address(opts.node_ipv4, AF_INET, opts.standalone, &cfg->podnet.node_ipv4,
				err, len) < 0 ||
	    podnet_node_address(opts.node_ipv6, AF_INET6, opts.standalone, &cfg->podnet.node_ipv6,
				err, len) < 0)
		return -EINVAL;
	return 0;
}

/* Kubernetes mode: the Node's InternalIPs where no --node-ipv4/--node-ipv6 was given, and
 * the pod lookup on ADD. */
static void use_kubernetes(struct coild_config *cfg)
{
	char ip4[IP_ADDR_STRLEN], ip6[IP_ADDR_STRLEN];
	kubesource_node_ips(state.kube, ip4, ip6);
	if (!cfg->podnet.node_ipv4.family && *ip4)
		nl_ip_parse(ip4, &cfg->podnet.node_ipv4);
	if (!cfg->podnet.node_ipv6.family && *ip6)
		nl_ip_parse(ip6, &cfg->podnet.node_ipv6);
	cfg->pod_lookup = kubesource_pod_lookup;
	cfg->pod_lookup_ctx = state.kube;
	cfg->report_drift = kubesource_report_drift;
	cfg->report_drift_ctx = state.kube;
	if (!opts.enable_egress)
		return;
	cfg->nat_gateways = kubesource_nat_gateways;
	cfg->nat_gateways_ctx = state.kube;
	cfg->originating_only = opts.originating_only;
	cfg->nat.port = (uint16_t)opts.egress_port;
	cfg->nat.tunnel = &natclient_founat_tunnel;
	enum natrules_backend backend;
	char err[256];
	/* Upstream does not check --backend either: another value only means no connmark
	 * rules (the fwmark rule and its table are still made); coil says so once. */
	if (natrules_backend_parse(opts.backend, &backend, err, sizeof(err)) == 0)
		cfg->nat.connmark = natclient_connmark_for(backend);
	else if (opts.originating_only)
		log_warn("originating-only client pods get no connmark rules", "error", err);
}

static void log_node_addresses(const struct coild_config *cfg)
{
	char v4[NL_IP_STRLEN], v6[NL_IP_STRLEN];
	log_info("node addresses", "ipv4", nl_ip_format(&cfg->podnet.node_ipv4, v4, sizeof(v4)),
		 "ipv6", nl_ip_format(&cfg->podnet.node_ipv6, v6, sizeof(v6)));
}

static int check_ready(void *arg, char *err, size_t errlen)
{
	if (coild_ready(state.coild))
		return 0;
	snprintf(err, errlen, "the daemon is not set up yet");
	return -EAGAIN;
}

/* SIGHUP: reload the standalone manifest. */
static void reload_manifest(void *arg)
{
	char err[512];
	if (!opts.standalone)
		return;
	if (standalone_reload(&state.source, opts.config, err, sizeof(err)) < 0)
		log_error("failed to reload the pool manifest", "error", err);
	else
		log_info("reloaded the pool manifest", "config", opts.config);
}

static void shut_down(void *arg)
{
	socket_server_shutdown(state.server);
}

static int check_options(const char **node_name, char *err, size_t len)
{
	if (!opts.enable_ipam && !opts.enable_egress) {
		snprintf(err, len, "configuration error: both IPAM and egress are disabled");
		return -EINVAL;
	}
	if (!opts.enable_ipam && opts.standalone) {
		snprintf(err, len,
			 "egress-only mode (--enable-ipam=false) needs Kubernetes, not "
			 "--standalone");
		return -EINVAL;
	}
	if (opts.egress_port < 1 || opts.egress_port > 65535) {
		snprintf(err, len, "--egress-port must be a UDP port (1-65535): %d",
			 opts.egress_port);
		return -EINVAL;
	}
	if (!opts.standalone)
		return 0;
	if (!opts.config) {
		snprintf(err, len, "--standalone needs --config FILE");
		return -EINVAL;
	}
	static char host[256];
	*node_name = getenv("COIL_NODE_NAME");
	if ((!*node_name || !**node_name) && gethostname(host, sizeof(host) - 1) == 0)
		*node_name = host;
	return 0;
}

/* --clear-routes-on-shutdown: standalone always; with Kubernetes only when this Node is gone
 * (a direct GET answering NotFound), asked with a 10 s bound. */
static void clear_routes_on_shutdown(void)
{
	char err[1024];
	int gone = state.kube ? kubesource_node_gone(state.kube, 10000, err, sizeof(err)) : 1;
	if (gone < 0)
		log_warn("cannot tell whether this Node is deleted; leaving exported routes",
			 "error", err);
	if (gone <= 0)
		return;
	if (state.kube)
		log_info("node is deleted, clearing export routes");
	if (coild_clear_routes(state.coild, err, sizeof(err)) < 0)
		log_error("failed to clear exported routes", "error", err);
}

static int run_daemon(void)
{
	char err[1024];
	struct runtime *rt = NULL;
	struct coild_gc_timer *gc = NULL;
	struct runtime_opts ro = {.metrics_addr = opts.metrics_addr,
				  .health_addr = opts.health_addr,
				  .metrics = state.metrics,
				  .ready = check_ready,
				  .on_stop = shut_down,
				  .on_hup = reload_manifest};
	if (socket_server_open(opts.socket, coild_handle_request, state.coild, &state.server, err,
			       sizeof(err)) < 0)
		return fail_startup("failed to open the socket", err);
	if (runtime_start(&ro, &rt, err, sizeof(err)) < 0 ||
	    coild_gc_timer_start(state.coild, (long)(opts.gc_interval * 1000), &gc, err,
				 sizeof(err)) < 0) {
		runtime_stop(rt);
		socket_server_close(state.server);
		return fail_startup("failed to start", err);
	}
	struct kubesource_egress_watch *egress_watch = NULL;
	if (state.kube && opts.enable_egress &&
	    kubesource_egress_watch_start(state.kube, opts.originating_only, nat_update,
					  state.coild, &egress_watch, err, sizeof(err)) < 0) {
		runtime_stop(rt);
		coild_gc_timer_stop(gc);
		socket_server_close(state.server);
		return fail_startup("failed to start the Egress watcher", err);
	}
	struct coild_route_monitor *monitor = NULL;
	if (opts.enable_ipam &&
	    coild_route_monitor_start(state.coild, &monitor, err, sizeof(err)) < 0)
		log_warn("routes removed by others will only be repaired by the periodic GC",
			 "error", err);
	log_info("coild started", "socket", opts.socket);
	int rc = socket_server_run(state.server);
	kubesource_egress_watch_stop(egress_watch);
	coild_gc_timer_stop(gc);
	coild_route_monitor_stop(monitor);
	if (opts.clear_routes && opts.enable_ipam)
		clear_routes_on_shutdown();
	runtime_stop(rt); /* the signal thread is done with the server after this */
	socket_server_close(state.server);
	return rc < 0 ? 1 : 0;
}

static int open_source(const char *node_name, char *err, size_t len)
{
	if (opts.standalone)
		return standalone_open(opts.config, opts.state_dir, node_name, &state.source, err,
				       len);
	int rc = kubesource_open_default(opts.kubeconfig, !opts.enable_ipam, &state.kube, err, len);
	if (rc == 0)
		state.source = kubesource_block_source(state.kube);
	return rc;
}

static void close_source(void)
{
	if (state.kube)
		kubesource_close(state.kube);
	else
		standalone_close(&state.source);
}

static const struct runtime_program program = {.name = "coild",
					       .usage = usage,
					       .flags = daemon_flags,
					       .nflags = N_FLAGS,
					       .log_level = &opts.log_level};

int daemon_main(int argc, char **argv)
{
	char err[1024];
	const char *node_name = NULL;
	int rc = runtime_parse(&program, argc, argv);
	if (rc != RUNTIME_CONTINUE)
		return rc;
	if (check_options(&node_name, err, sizeof(err)) < 0)
		return fail_startup("invalid configuration", err);
	struct coild_config cfg = {0};
	if (build_config(&cfg, err, sizeof(err)) < 0)
		return fail_startup("invalid configuration", err);
	cfg.node_name = node_name ? node_name : getenv("COIL_NODE_NAME");
	if (open_source(node_name, err, sizeof(err)) < 0)
		return fail_startup(opts.standalone ? "failed to open the standalone block source"
						    : "failed to open the Kubernetes block source",
				    err);
	if (state.kube)
		use_kubernetes(&cfg);
	log_node_addresses(&cfg);
	state.metrics = metrics_new();
	if (!state.metrics ||
	    coild_new(&cfg, &state.source, state.metrics, &state.coild, err, sizeof(err)) < 0) {
		close_source();
		metrics_free(state.metrics);
		return fail_startup("failed to start", state.metrics ? err : "out of memory");
	}
	rc = run_daemon();
	coild_free(state.coild);
	close_source();
	metrics_free(state.metrics);
	return rc;
}
