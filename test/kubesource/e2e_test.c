/* End to end, as root: the real `coil daemon` in Kubernetes mode against the test API server
 * with the fake controller, in a throw-away network namespace (the whole test process is
 * unshared into it, so the API server, the daemon and the plugin share it and nothing leaks
 * into the machine's network). A CNI ADD through the plugin gets an address, routes removed
 * by someone else come back, DEL frees the address and the empty block is deleted from the
 * API, and --clear-routes-on-shutdown empties table 119 only once the Node is gone. */
#include "fixture.h"

#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coilapi/coilapi.h"
#include "nl/nl.h"

extern char **environ;

#define IP_TOOL "/bin/ip"

static struct {
	char work[64], sock[128], kubeconfig[128], log[128], podns[64];
	pid_t daemon;
	bool podns_made;
} e2e;

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void start_daemon_args(bool egress, const char *extra1, const char *extra2,
			      const char *extra3)
{
	char state[128];
	snprintf(state, sizeof(state), "%s/state", e2e.work);
	const char *argv[] = {COIL_BIN, "daemon", "--kubeconfig", e2e.kubeconfig, "--socket",
			      e2e.sock, "--state-dir", state, "--metrics-addr", "127.0.0.1:19384",
			      "--health-addr", "127.0.0.1:19385", "--clear-routes-on-shutdown",
			      /* the tests check that the DEL emptying a block releases it */
			      "--empty-block-grace", "0",
			      egress ? "--enable-egress=true" : "--enable-egress=false", extra1,
			      extra2, extra3, NULL};
	char *envp[] = {"COIL_NODE_NAME=node1", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 2, e2e.log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	unlink(e2e.sock);
	int ret = posix_spawn(&e2e.daemon, argv[0], &fa, NULL, (char *const *)argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	ck_assert_int_eq(ret, 0);
	struct stat st;
	for (long start = test_now_ms(); stat(e2e.sock, &st) != 0; test_sleep_ms(20)) {
		ck_assert_msg(waitpid(e2e.daemon, NULL, WNOHANG) == 0, "daemon exited; see %s",
			      e2e.log);
		ck_assert_msg(test_now_ms() - start < 20000, "daemon did not start; see %s",
			      e2e.log);
	}
}

static void start_daemon_with(bool egress)
{
	start_daemon_args(egress, NULL, NULL, NULL);
}

static void start_daemon(void)
{
	start_daemon_with(false);
}

/* SIGTERM and wait; the exit status. */
static int stop_daemon(void)
{
	int status = -1;
	kill(e2e.daemon, SIGTERM);
	for (long start = test_now_ms(); test_now_ms() - start < 20000; test_sleep_ms(20))
		if (waitpid(e2e.daemon, &status, WNOHANG) == e2e.daemon) {
			e2e.daemon = 0;
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		}
	kill(e2e.daemon, SIGKILL);
	waitpid(e2e.daemon, NULL, 0);
	e2e.daemon = 0;
	ck_abort_msg("daemon did not stop within 20 s of SIGTERM");
	return -1;
}

/* Runs a CNI plugin (bin) like a runtime with netconf on stdin; its stdout goes to out.
 * Returns its exit status. */
static int run_plugin(const char *bin, const char *netconf, const char *cmd, const char *id,
		      const char *cni_args, char *out, size_t len)
{
	char in_path[128], out_path[128], netns[128];
	snprintf(in_path, sizeof(in_path), "%s/netconf", e2e.work);
	snprintf(out_path, sizeof(out_path), "%s/plugin.out", e2e.work);
	write_file(in_path, netconf);
	snprintf(netns, sizeof(netns), "/var/run/netns/%s", e2e.podns);
	char env[6][256];
	snprintf(env[0], 256, "CNI_COMMAND=%s", cmd);
	snprintf(env[1], 256, "CNI_CONTAINERID=%s", id);
	snprintf(env[2], 256, "CNI_NETNS=%s", netns);
	snprintf(env[3], 256, "CNI_IFNAME=eth0");
	snprintf(env[4], 256, "CNI_PATH=/usr/lib/cni");
	snprintf(env[5], 256, "CNI_ARGS=%s", cni_args);
	char *envp[] = {env[0], env[1], env[2], env[3], env[4], env[5], NULL};
	const char *argv[] = {bin, NULL};
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, in_path, O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	pid_t pid;
	int status = -1;
	ck_assert_int_eq(posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, envp), 0);
	posix_spawn_file_actions_destroy(&fa);
	waitpid(pid, &status, 0);
	FILE *f = fopen(out_path, "r");
	size_t n = f ? fread(out, 1, len - 1, f) : 0;
	out[n] = '\0';
	if (f)
		fclose(f);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The coil plugin with the plain netconf. */
static int plugin(const char *cmd, const char *id, const char *cni_args, char *out, size_t len)
{
	char netconf[512];
	snprintf(netconf, sizeof(netconf),
		 "{\"cniVersion\":\"1.0.0\",\"name\":\"k8s-pod-network\",\"type\":\"coil\","
		 "\"socket\":\"%s\"}",
		 e2e.sock);
	return run_plugin(COIL_BIN, netconf, cmd, id, cni_args, out, len);
}

/* Whether table holds a route to cidr. */
static bool has_route(uint32_t table, const char *cidr)
{
	struct nl_sock s = {0};
	struct nl_route *routes = NULL;
	size_t n = 0;
	char err[256], text[NL_PREFIX_STRLEN];
	struct nl_route_filter f = {.family = AF_UNSPEC, .table = table};
	ck_assert_int_eq(nl_sock_open(&s, err, sizeof(err)), 0);
	int ret = nl_route_list(&s, &f, &routes, &n, err, sizeof(err));
	nl_sock_close(&s);
	ck_assert_msg(ret == 0, "list table %u: %s", table, err);
	bool found = false;
	for (size_t i = 0; i < n; i++)
		found |= strcmp(nl_prefix_format(&routes[i].dst, text, sizeof(text)), cidr) == 0;
	free(routes);
	return found;
}

static size_t count_routes(uint32_t table)
{
	struct nl_sock s = {0};
	struct nl_route *routes = NULL;
	size_t n = 0;
	char err[256];
	struct nl_route_filter f = {.family = AF_UNSPEC, .table = table};
	ck_assert_int_eq(nl_sock_open(&s, err, sizeof(err)), 0);
	nl_route_list(&s, &f, &routes, &n, err, sizeof(err));
	nl_sock_close(&s);
	free(routes);
	return n;
}

static void delete_route(uint32_t table, unsigned char scope, const char *cidr)
{
	struct nl_sock s = {0};
	struct nl_route r = {.table = table, .scope = scope}; /* IPv4 deletes match the scope */
	char err[256];
	ck_assert_int_eq(nl_prefix_parse(cidr, &r.dst), 0);
	ck_assert_int_eq(nl_sock_open(&s, err, sizeof(err)), 0);
	int ret = nl_route_del(&s, &r, err, sizeof(err));
	nl_sock_close(&s);
	ck_assert_msg(ret == 0, "delete %s: %s", cidr, err);
}

static bool wait_route(uint32_t table, const char *cidr, bool present, long ms)
{
	for (long start = test_now_ms(); test_now_ms() - start < ms; test_sleep_ms(20))
		if (has_route(table, cidr) == present)
			return true;
	return has_route(table, cidr) == present;
}

/* A pod; annotations (JSON object text) may be NULL. */
static void create_annotated_pod(const char *ns, const char *name, const char *annotations)
{
	char err[512];
	json_t *ann = annotations ? json_loads(annotations, 0, NULL) : json_object();
	ck_assert_ptr_nonnull(ann);
	json_t *pod =
	    json_pack("{s:s,s:s,s:{s:s,s:s,s:o},s:{s:[{s:s,s:s}]}}", "apiVersion", "v1", "kind",
		      "Pod", "metadata", "name", name, "namespace", ns, "annotations", ann, "spec",
		      "containers", "name", "c", "image", "busybox");
	ck_assert_int_eq(kube_create(fx_client, &KUBE_RES_PODS, ns, pod, NULL, err, sizeof(err)),
			 0);
	json_decref(pod);
}

static void create_pod(const char *ns, const char *name)
{
	create_annotated_pod(ns, name, NULL);
}

static void expect_error(const char *out, int code, const char *msg)
{
	json_t *doc = json_loads(out, 0, NULL);
	ck_assert_msg(doc != NULL, "plugin output is not JSON: %s", out);
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "code")), code);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "msg")), msg);
	json_decref(doc);
}

static void expect_details(const char *out, const char *part)
{
	json_t *doc = json_loads(out, 0, NULL);
	const char *details = json_string_value(json_object_get(doc, "details"));
	ck_assert_msg(details && strstr(details, part), "details lack \"%s\": %s", part, out);
	json_decref(doc);
}

static void expect_address(const char *out, const char *want)
{
	json_t *doc = json_loads(out, 0, NULL);
	ck_assert_msg(doc != NULL, "plugin output is not JSON: %s", out);
	const char *addr = json_string_value(
	    json_object_get(json_array_get(json_object_get(doc, "ips"), 0), "address"));
	ck_assert_msg(addr && strcmp(addr, want) == 0, "ADD result: %s", out);
	json_decref(doc);
}

static size_t count_veths(void)
{
	struct nl_sock s = {0};
	struct nl_link *links = NULL;
	size_t n = 0, veths = 0;
	char err[256];
	ck_assert_int_eq(nl_sock_open(&s, err, sizeof(err)), 0);
	ck_assert_int_eq(nl_link_list(&s, &links, &n, err, sizeof(err)), 0);
	nl_sock_close(&s);
	for (size_t i = 0; i < n; i++)
		veths += strncmp(links[i].name, "veth", 4) == 0;
	free(links);
	return veths;
}

static bool node_is_clean(void)
{
	return count_routes(116) == 0 && count_routes(119) == 0 && fx_count_blocks() == 0 &&
	       count_veths() == 0;
}

/* No trace of a pod on the node: no pod veth, no pod route, no block. A DEL hands the
 * veth to the daemon's reaper, which frees the address (and so the block) after deleting
 * it, so this waits a bounded while for that first. */
static void expect_nothing_left(void)
{
	for (long start = test_now_ms(); !node_is_clean() && test_now_ms() - start < 5000;)
		test_sleep_ms(20);
	ck_assert_uint_eq(count_routes(116), 0);
	ck_assert_uint_eq(count_routes(119), 0);
	ck_assert_uint_eq(fx_count_blocks(), 0);
	ck_assert_uint_eq(count_veths(), 0);
}

START_TEST(test_daemon_end_to_end)
{
	char out[8192], err[512];
	const char *args = "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=pod1";
	create_pod("ns1", "pod1");
	struct fake_controller *fc = fake_controller_start(false);
	start_daemon();

	/* ADD: an address from a block the controller made for this node, exported. */
	ck_assert_msg(plugin("ADD", "c1", args, out, sizeof(out)) == 0, "ADD: %s", out);
	expect_address(out, "10.2.0.0/32");
	ck_assert(fx_block_exists("default-0"));
	ck_assert(has_route(119, "10.2.0.0/31") && has_route(119, "fd02::200/127"));
	ck_assert(has_route(116, "10.2.0.0/32") && has_route(116, "fd02::200/128"));

	/* Routes removed by someone else come back. */
	delete_route(119, RT_SCOPE_UNIVERSE, "10.2.0.0/31");
	ck_assert_msg(wait_route(119, "10.2.0.0/31", true, 3000), "export route not restored");
	delete_route(116, RT_SCOPE_LINK, "10.2.0.0/32");
	ck_assert_msg(wait_route(116, "10.2.0.0/32", true, 3000), "pod route not restored");
	delete_route(116, RT_SCOPE_LINK, "fd02::200/128");
	ck_assert_msg(wait_route(116, "fd02::200/128", true, 3000), "pod route not restored");

	/* Kubernetes mode needs the pod. */
	ck_assert_int_ne(
	    plugin("ADD", "c9", "K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=ghost", out, sizeof(out)), 0);
	expect_error(out, 999, "failed to get pod");
	ck_assert_int_ne(plugin("ADD", "c9", "IgnoreUnknown=1", out, sizeof(out)), 0);
	expect_error(out, 999, "failed to get pod");
	/* API server failing: an ADD served from a block the node has does not need it; one
	 * that needs a new block gets "try again later". */
	apiserver_fault(
	    fx_client, "{\"fail_next\":1000,\"status\":503,\"path_regex\":\"pods|blockrequests\"}");
	ck_assert_msg(plugin("ADD", "c9", args, out, sizeof(out)) == 0, "ADD: %s", out);
	expect_address(out, "10.2.0.1/32");
	ck_assert_int_ne(plugin("ADD", "c10", args, out, sizeof(out)), 0);
	expect_error(out, 11, "failed to allocate address");
	apiserver_reset(fx_client, false);
	ck_assert_msg(plugin("DEL", "c9", args, out, sizeof(out)) == 0, "DEL: %s", out);
	ck_assert_msg(plugin("DEL", "c10", args, out, sizeof(out)) == 0, "DEL: %s", out);

	/* DEL frees the address; the empty block is released and unexported. */
	ck_assert_msg(plugin("DEL", "c1", args, out, sizeof(out)) == 0, "DEL: %s", out);
	expect_nothing_left();

	/* Shutdown with the Node present leaves table 119; with the Node gone it is cleared. */
	ck_assert_msg(plugin("ADD", "c2", args, out, sizeof(out)) == 0, "ADD: %s", out);
	ck_assert(has_route(119, "10.2.0.0/31"));
	ck_assert_int_eq(stop_daemon(), 0);
	ck_assert(has_route(119, "10.2.0.0/31"));
	start_daemon(); /* restores c2's address from the kernel: the block stays */
	ck_assert(fx_block_exists("default-0"));
	ck_assert(has_route(119, "10.2.0.0/31"));
	ck_assert_int_eq(
	    kube_delete(fx_client, &KUBE_RES_NODES, NULL, "node1", NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(stop_daemon(), 0);
	ck_assert_uint_eq(count_routes(119), 0);
	fake_controller_stop(fc);
}
END_TEST

static void create_object(const struct kube_resource *res, const char *ns, const char *json)
{
	char err[512];
	json_t *obj = json_loads(json, 0, NULL);
	ck_assert_msg(obj != NULL, "bad JSON: %s", json);
	int ret = kube_create(fx_client, res, ns, obj, NULL, err, sizeof(err));
	ck_assert_msg(ret == 0, "create: %s", err);
	json_decref(obj);
}

static void delete_object(const struct kube_resource *res, const char *ns, const char *name)
{
	char err[512];
	ck_assert_int_eq(kube_delete(fx_client, res, ns, name, NULL, err, sizeof(err)), 0);
}

#define EGRESS_JSON(dests)                                                                         \
	"{\"apiVersion\":\"coil.cybozu.com/v2\",\"kind\":\"Egress\",\"metadata\":{\"name\":"       \
	"\"egress\",\"namespace\":\"ns2\"},\"spec\":{\"destinations\":" dests "}}"
#define SERVICE_JSON(ips)                                                                          \
	"{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"egress\","           \
	"\"namespace\":\"ns2\"},\"spec\":{\"clusterIPs\":" ips ",\"ports\":[{\"port\":5555,"       \
	"\"protocol\":\"UDP\"}]}}"

/* A NAT client pod: the ADD fails as upstream's does while its Egress or Service is missing
 * or unusable, and whatever fails leaves nothing on the node. This kernel has no FoU, so the
 * client setup itself must fail with its own message and undo the pod network. */
START_TEST(test_nat_client_errors)
{
	char out[8192];
	const char *args = "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=nat-client1";
	create_annotated_pod("ns1", "nat-client1", "{\"egress.coil.cybozu.com/ns2\":\"egress\"}");
	struct fake_controller *fc = fake_controller_start(false);
	start_daemon_with(true);

	ck_assert_int_ne(plugin("ADD", "n1", args, out, sizeof(out)), 0);
	expect_error(out, 999, "failed to setup NAT hook");
	expect_details(out, "failed to get Egress ns2/egress");
	expect_nothing_left();

	create_object(&COILAPI_RES_EGRESSES, "ns2",
		      EGRESS_JSON("[\"192.168.0.0/16\",\"fd20::/112\"]"));
	ck_assert_int_ne(plugin("ADD", "n1", args, out, sizeof(out)), 0);
	expect_error(out, 999, "failed to setup NAT hook");
	expect_details(out, "failed to get Service ns2/egress");
	expect_nothing_left();

	create_object(&KUBE_RES_SERVICES, "ns2", SERVICE_JSON("[\"10.0.0.x\"]"));
	ck_assert_int_ne(plugin("ADD", "n1", args, out, sizeof(out)), 0);
	expect_error(out, 999, "failed to setup NAT hook");
	expect_details(out, "invalid ClusterIP in Service ns2/egress: 10.0.0.x");
	expect_nothing_left();

	/* A usable gateway: the pod network is made, the client fails (no FoU here) and the
	 * pod network is undone, its address freed and the block given back. */
	delete_object(&KUBE_RES_SERVICES, "ns2", "egress");
	create_object(&KUBE_RES_SERVICES, "ns2", SERVICE_JSON("[\"10.0.0.5\"]"));
	ck_assert_int_ne(plugin("ADD", "n1", args, out, sizeof(out)), 0);
	expect_error(out, 999, "failed to setup pod network egress");
	expect_details(out, "fou module"); /* a kernel without FoU is named as such */
	expect_nothing_left();

	/* No destination of the ClusterIP's family: no gateway, nothing to set up, the ADD
	 * succeeds like any other. */
	delete_object(&KUBE_RES_SERVICES, "ns2", "egress");
	create_object(&KUBE_RES_SERVICES, "ns2", SERVICE_JSON("[\"fd01::5\"]"));
	delete_object(&COILAPI_RES_EGRESSES, "ns2", "egress");
	create_object(&COILAPI_RES_EGRESSES, "ns2", EGRESS_JSON("[\"0.0.0.0/0\"]"));
	ck_assert_msg(plugin("ADD", "n1", args, out, sizeof(out)) == 0, "ADD: %s", out);
	ck_assert_msg(plugin("DEL", "n1", args, out, sizeof(out)) == 0, "DEL: %s", out);
	expect_nothing_left();

	/* A bad annotation is the pod's own error. */
	create_annotated_pod("ns1", "nat-client2", "{\"egress.coil.cybozu.com/\":\"x\"}");
	ck_assert_int_ne(plugin("ADD", "n2",
				"IgnoreUnknown=1;K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=nat-client2",
				out, sizeof(out)),
			 0);
	expect_error(out, 999, "failed to setup NAT hook");
	expect_nothing_left();
	ck_assert_int_eq(stop_daemon(), 0);
	fake_controller_stop(fc);
}
END_TEST

#define PTP "/usr/lib/cni/ptp"

/* ptp + host-local, the first plugin of the chain: runs cmd, its output into out. */
static void ptp(const char *cmd, const char *id, const char *args, char *out, size_t len)
{
	char conf[512];
	snprintf(conf, sizeof(conf),
		 "{\"cniVersion\":\"1.0.0\",\"name\":\"k8s-pod-network\",\"type\":\"ptp\","
		 "\"ipam\":{\"type\":\"host-local\",\"ranges\":[[{\"subnet\":\"10.244.1.0/24\"}]],"
		 "\"dataDir\":\"%s/ipam\"}}",
		 e2e.work);
	ck_assert_msg(run_plugin(PTP, conf, cmd, id, args, out, len) == 0, "ptp %s: %s", cmd, out);
}

/* ptp's ADD, then coil with its result as prevResult. Returns coil's exit status; out gets
 * coil's output. */
static int chained_add(const char *id, const char *args, char *out, size_t len)
{
	char *conf = malloc(16384), prev[8192];
	ck_assert_ptr_nonnull(conf);
	ptp("ADD", id, args, prev, sizeof(prev));
	snprintf(conf, 16384,
		 "{\"cniVersion\":\"1.0.0\",\"name\":\"k8s-pod-network\",\"type\":\"coil\","
		 "\"socket\":\"%s\",\"prevResult\":%s}",
		 e2e.sock, prev);
	int rc = run_plugin(COIL_BIN, conf, "ADD", id, args, out, len);
	free(conf);
	return rc;
}

static void ptp_del(const char *id, const char *args)
{
	char out[4096];
	ptp("DEL", id, args, out, sizeof(out));
}

/* The host link whose alias is alias, or false. */
static bool alias_exists(const char *alias)
{
	struct nl_sock s = {0};
	struct nl_link *links = NULL;
	size_t n = 0;
	char err[256];
	bool found = false;
	ck_assert_int_eq(nl_sock_open(&s, err, sizeof(err)), 0);
	ck_assert_int_eq(nl_link_list(&s, &links, &n, err, sizeof(err)), 0);
	nl_sock_close(&s);
	for (size_t i = 0; i < n; i++)
		found |= strcmp(links[i].alias, alias) == 0;
	free(links);
	return found;
}

static const char *pod_uid_of(const char *ns, const char *name, char *buf, size_t len)
{
	json_t *pod = NULL;
	char err[256];
	ck_assert_int_eq(kube_get(fx_client, &KUBE_RES_PODS, ns, name, &pod, err, sizeof(err)), 0);
	snprintf(buf, len, "%s", kube_obj_uid(pod));
	json_decref(pod);
	return buf;
}

/* Egress-only mode chained after Debian's ptp + host-local, as upstream's egress overlays run
 * coild: the host end gets coil's alias keyed by the pod UID, coil prints prevResult, CHECK
 * finds the alias, DEL leaves the chained plugin's network alone; a NAT client pod fails on
 * this kernel (no FoU) with the egress error; an unchained call has no host interface. */
START_TEST(test_egress_only_chained)
{
	char out[8192], uid[128], alias[256];
	const char *args = "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=chained1";
	ck_assert_msg(access(PTP, X_OK) == 0, "needs %s (containernetworking-plugins)", PTP);
	create_pod("ns1", "chained1");
	start_daemon_args(true, "--enable-ipam=false", "--pod-table-id=0", "--protocol-id=2");

	ck_assert_msg(chained_add("e1", args, out, sizeof(out)) == 0, "ADD: %s", out);
	expect_address(out, "10.244.1.2/24"); /* prevResult, printed as it was */
	snprintf(alias, sizeof(alias), "COIL::%s:eth0", pod_uid_of("ns1", "chained1", uid, 128));
	ck_assert_msg(alias_exists(alias), "no host link has alias %s", alias);
	ck_assert_uint_eq(fx_count_blocks(), 0); /* no IPAM */
	ck_assert_msg(plugin("CHECK", "e1", args, out, sizeof(out)) == 0, "CHECK: %s", out);
	ck_assert_msg(plugin("DEL", "e1", args, out, sizeof(out)) == 0, "DEL: %s", out);
	ck_assert(alias_exists(alias)); /* the chained plugin's DEL removes the veth */
	ptp_del("e1", args);
	ck_assert(!alias_exists(alias));
	ck_assert_int_ne(plugin("CHECK", "e1", args, out, sizeof(out)), 0);
	expect_error(out, 999, "check failed");

	/* unchained in egress-only mode: no host interface to tag */
	ck_assert_int_ne(plugin("ADD", "e2", args, out, sizeof(out)), 0);
	expect_error(out, 999,
		     "failed to set interface alias: no host-side interface in prevResult");

	/* a NAT client: the gateway is read, the client setup fails for want of FoU */
	create_annotated_pod("ns1", "chained2", "{\"egress.coil.cybozu.com/ns2\":\"egress\"}");
	create_object(&COILAPI_RES_EGRESSES, "ns2", EGRESS_JSON("[\"0.0.0.0/0\"]"));
	create_object(&KUBE_RES_SERVICES, "ns2", SERVICE_JSON("[\"10.96.0.10\"]"));
	const char *args2 = "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=chained2";
	ck_assert_int_ne(chained_add("e3", args2, out, sizeof(out)), 0);
	expect_error(out, 999, "failed to setup pod network egress");
	expect_details(out, "fou module");
	ptp_del("e3", args2);
	ck_assert_int_eq(stop_daemon(), 0);
}
END_TEST

static void setup(void)
{
	snprintf(e2e.work, sizeof(e2e.work), "/tmp/kubesource-e2e-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(e2e.work));
	snprintf(e2e.sock, sizeof(e2e.sock), "%s/coild.sock", e2e.work);
	snprintf(e2e.kubeconfig, sizeof(e2e.kubeconfig), "%s/kubeconfig", e2e.work);
	snprintf(e2e.log, sizeof(e2e.log), "%s/coild.log", e2e.work);
	snprintf(e2e.podns, sizeof(e2e.podns), "kubesource-e2e-%d", (int)getpid());
	fx_start();
	char text[1024];
	snprintf(text, sizeof(text),
		 "apiVersion: v1\nkind: Config\ncurrent-context: t\nclusters:\n- name: c\n"
		 "  cluster:\n    server: %s\ncontexts:\n- name: t\n  context:\n    cluster: c\n"
		 "    user: u\nusers:\n- name: u\n  user:\n    token: %s\n",
		 fx_srv.url, fx_coild_token);
	write_file(e2e.kubeconfig, text);
	const char *const add[] = {IP_TOOL, "netns", "add", e2e.podns, NULL};
	ck_assert_msg(run_command(add) == 0, "ip netns add %s failed", e2e.podns);
	e2e.podns_made = true;
}

static void teardown(void)
{
	if (e2e.daemon > 0) {
		kill(e2e.daemon, SIGKILL);
		waitpid(e2e.daemon, NULL, 0);
		e2e.daemon = 0;
	}
	if (e2e.podns_made) {
		const char *const del[] = {IP_TOOL, "netns", "del", e2e.podns, NULL};
		run_command(del);
		e2e.podns_made = false;
	}
	fx_stop();
	if (getenv("KUBESOURCE_E2E_KEEP"))
		fprintf(stderr, "e2e: kept %s\n", e2e.work);
	else {
		const char *const rm[] = {"/bin/rm", "-rf", e2e.work, NULL};
		run_command(rm);
	}
}

/* The process leaves the machine's netns for a new one with lo up. */
static int enter_private_netns(void)
{
	char err[256];
	struct nl_sock s = {0};
	struct nl_link lo;
	if (unshare(CLONE_NEWNET) != 0) {
		perror("unshare(CLONE_NEWNET)");
		return -1;
	}
	int ret = nl_sock_open(&s, err, sizeof(err));
	if (ret == 0)
		ret = nl_link_get_by_name(&s, "lo", &lo, err, sizeof(err));
	if (ret == 0)
		ret = nl_link_set_up(&s, lo.index, true, err, sizeof(err));
	nl_sock_close(&s);
	if (ret < 0)
		fprintf(stderr, "lo up: %s\n", err);
	return ret;
}

int main(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "FAIL: test_kubesource_e2e must run as root (netns, veths)\n");
		return EXIT_FAILURE;
	}
	if (access(IP_TOOL, X_OK) != 0 || access(COIL_BIN, X_OK) != 0) {
		fprintf(stderr, "FAIL: needs %s and %s\n", IP_TOOL, COIL_BIN);
		return EXIT_FAILURE;
	}
	if (enter_private_netns() < 0)
		return EXIT_FAILURE;
	Suite *s = suite_create("e2e");
	TCase *tc = tcase_create("daemon");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_daemon_end_to_end);
	tcase_add_test(tc, test_nat_client_errors);
	tcase_add_test(tc, test_egress_only_chained);
	suite_add_tcase(s, tc);
	SRunner *runner = srunner_create(s);
	srunner_set_fork_status(runner, CK_NOFORK);
	srunner_run_all(runner, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
