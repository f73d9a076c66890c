/* lib/egress: environment, Pod decoding, the pod watcher's decisions (table tests against a
 * mock kernel), the NAT server's plans; and, as root in fresh netns, the NAT server and the
 * metrics collection for real. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../nl/testns.h"
#include "egress/egress.h"

static struct nl_ip ip(const char *text)
{
	struct nl_ip out;
	ck_assert_int_eq(nl_ip_parse(text, &out), 0);
	return out;
}

/* ---- environment ---- */

START_TEST(env_cases)
{
	static const struct {
		const char *ns, *name, *addrs, *err;
		const char *v4, *v6;
	} cases[] = {
	    {"internet", "egress2", "10.64.0.5,fd00::5", NULL, "10.64.0.5", "fd00::5"},
	    {"internet", "egress2", "fd00::5", NULL, "", "fd00::5"},
	    {"internet", "egress2", "10.0.0.1,10.0.0.2", NULL, "10.0.0.2", ""},
	    {"internet", "egress2", "::ffff:10.0.0.3", NULL, "10.0.0.3", ""},
	    {NULL, "egress2", "10.0.0.1", "COIL_POD_NAMESPACE environment variable must be set",
	     NULL, NULL},
	    {"internet", "", "10.0.0.1", "COIL_EGRESS_NAME environment variable must be set", NULL,
	     NULL},
	    {"internet", "e", "", "COIL_POD_ADDRESSES contains invalid address: ", NULL, NULL},
	    {"internet", "e", NULL, "COIL_POD_ADDRESSES contains invalid address: ", NULL, NULL},
	    {"internet", "e", "10.0.0.1,", "COIL_POD_ADDRESSES contains invalid address: ", NULL,
	     NULL},
	    {"internet", "e", "10.0.0.1,bad", "COIL_POD_ADDRESSES contains invalid address: bad",
	     NULL, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct egress_env env;
		char err[256] = "";
		int rc = egress_env_parse(cases[i].ns, cases[i].name, cases[i].addrs, "gw-0", &env,
					  err, sizeof(err));
		if (cases[i].err) {
			ck_assert_int_eq(rc, -EINVAL);
			ck_assert_str_eq(err, cases[i].err);
			continue;
		}
		ck_assert_msg(rc == 0, "case %zu: %s", i, err);
		char a[NL_IP_STRLEN];
		ck_assert_str_eq(nl_ip_format(&env.local4, a, sizeof(a)), cases[i].v4);
		ck_assert_str_eq(nl_ip_format(&env.local6, a, sizeof(a)), cases[i].v6);
		ck_assert_str_eq(env.pod, "gw-0");
	}
}
END_TEST

/* ---- Pod decoding ---- */

static json_t *pod_json(const char *name, const char *annotation, const char *phase,
			bool host_network, const char *ip1, const char *ip2)
{
	json_t *ips = json_array();
	if (ip1)
		json_array_append_new(ips, json_pack("{s:s}", "ip", ip1));
	if (ip2)
		json_array_append_new(ips, json_pack("{s:s}", "ip", ip2));
	json_t *ann = json_object();
	if (annotation)
		json_object_set_new(ann, "egress.coil.cybozu.com/internet",
				    json_string(annotation));
	return json_pack("{s:{s:s,s:s,s:o},s:{s:b},s:{s:s,s:o}}", "metadata", "namespace",
			 "default", "name", name, "annotations", ann, "spec", "hostNetwork",
			 host_network, "status", "phase", phase, "podIPs", ips);
}

static struct egress_pod decode(json_t *obj)
{
	struct egress_pod p;
	char err[128];
	ck_assert_msg(egress_pod_decode(obj, "internet", "egress2", &p, err, sizeof(err)) == 0,
		      "%s", err);
	json_decref(obj);
	return p;
}

START_TEST(pod_decode_cases)
{
	struct egress_pod p =
	    decode(pod_json("pod2", "egress2", "Running", false, "10.1.1.2", "fd01::2"));
	ck_assert_str_eq(p.key, "default/pod2");
	ck_assert(p.wants && egress_pod_is_client(&p));
	ck_assert_uint_eq(p.nips, 2);
	p = decode(pod_json("p", "egress1,egress2", "Running", false, NULL, NULL));
	ck_assert(p.wants);
	ck_assert_uint_eq(p.nips, 0);
	p = decode(pod_json("p", "egress1, egress2", "Running", false, NULL, NULL));
	ck_assert(!p.wants); /* " egress2" is another name: no trimming */
	p = decode(pod_json("p", "egress1", "Running", false, NULL, NULL));
	ck_assert(!p.wants);
	p = decode(pod_json("p", NULL, "Running", false, NULL, NULL));
	ck_assert(!p.wants);
	p = decode(pod_json("p", "egress2", "Running", true, "10.0.0.1", NULL));
	ck_assert(p.wants && !egress_pod_is_client(&p));
	p = decode(pod_json("p", "egress2", "Succeeded", false, "10.0.0.1", NULL));
	ck_assert(p.terminated && !egress_pod_is_client(&p));
	p = decode(pod_json("p", "egress2", "Failed", false, "10.0.0.1", NULL));
	ck_assert(p.terminated);
	p = decode(pod_json("p", "egress2", "Pending", false, "not-an-ip", "10.0.0.9"));
	ck_assert_uint_eq(p.nips, 1);
	struct egress_pod q;
	json_t *bad = json_pack("{s:{}}", "metadata");
	ck_assert_int_eq(egress_pod_decode(bad, "internet", "egress2", &q, NULL, 0), -EINVAL);
	json_decref(bad);
}
END_TEST

/* ---- the watcher against a mock kernel ---- */

struct mock {
	struct nl_ip peers[32];
	size_t npeers;
	int adds, dels;
	bool v6; /* whether the "gateway" has IPv6 */
};

static int mock_add(void *arg, const struct nl_ip *addr, char ifname[IF_NAMESIZE], char *err,
		    size_t errlen)
{
	(void)err;
	(void)errlen;
	struct mock *m = arg;
	if (addr->family == AF_INET6 && !m->v6)
		return FOUNAT_EFAMILY;
	founat_link_name(addr, ifname, IF_NAMESIZE);
	for (size_t i = 0; i < m->npeers; i++)
		if (nl_ip_equal(&m->peers[i], addr))
			return 0;
	m->peers[m->npeers++] = *addr;
	m->adds++;
	return 0;
}

static int mock_del(void *arg, const struct nl_ip *addr, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	struct mock *m = arg;
	m->dels++;
	for (size_t i = 0; i < m->npeers; i++)
		if (nl_ip_equal(&m->peers[i], addr)) {
			m->peers[i] = m->peers[--m->npeers];
			return 0;
		}
	return 0;
}

static bool mock_has(const struct mock *m, const char *text)
{
	struct nl_ip a = ip(text);
	for (size_t i = 0; i < m->npeers; i++)
		if (nl_ip_equal(&m->peers[i], &a))
			return true;
	return false;
}

static struct mock mk;
static struct egress_watch *w;
static struct metrics *reg;

static void watch_setup(void)
{
	memset(&mk, 0, sizeof(mk));
	mk.v6 = true;
	reg = metrics_new();
	ck_assert_int_eq(egress_metrics_declare(reg), 0);
	struct egress_peer_ops ops = {.add_peer = mock_add, .del_peer = mock_del, .arg = &mk};
	w = egress_watch_new(&ops, reg, "internet", "egress2");
	ck_assert_ptr_nonnull(w);
}

static void watch_teardown(void)
{
	egress_watch_free(w);
	metrics_free(reg);
}

static void sync_pod(json_t *obj)
{
	struct egress_pod p = decode(obj);
	char err[256];
	ck_assert_msg(egress_watch_sync(w, p.key, &p, err, sizeof(err)) == 0, "%s", err);
}

static void sync_gone(const char *name)
{
	char key[128], err[256];
	snprintf(key, sizeof(key), "default/%s", name);
	ck_assert_msg(egress_watch_sync(w, key, NULL, err, sizeof(err)) == 0, "%s", err);
}

static void assert_metric(const char *line)
{
	char *text = metrics_render(reg);
	ck_assert_msg(strstr(text, line), "missing %s in:\n%s", line, text);
	free(text);
}

static void assert_no_metric(const char *part)
{
	char *text = metrics_render(reg);
	ck_assert_msg(!strstr(text, part), "unexpected %s in:\n%s", part, text);
	free(text);
}

static void initial_pods(void)
{
	sync_pod(pod_json("pod1", NULL, "Running", false, "10.1.1.1", "fd01::1"));
	sync_pod(pod_json("pod2", "egress2", "Running", false, "10.1.1.2", "fd01::2"));
	sync_pod(pod_json("pod3", "egress1,egress2", "Running", false, "fd01::3", NULL));
	json_t *pod4 = pod_json("pod4", NULL, "Running", false, "fd01::4", NULL);
	json_object_set_new(json_object_get(json_object_get(pod4, "metadata"), "annotations"),
			    "egress.coil.cybozu.com/external", json_string("egress1"));
	sync_pod(pod4);
}

START_TEST(watch_initial)
{
	initial_pods();
	ck_assert_uint_eq(mk.npeers, 3);
	ck_assert(mock_has(&mk, "10.1.1.2") && mock_has(&mk, "fd01::2") &&
		  mock_has(&mk, "fd01::3"));
	assert_metric("coil_egress_client_pod_count{egress=\"egress2\",namespace=\"internet\"} 2");
	assert_metric(
	    "coil_egress_client_pod_info{egress=\"egress2\",egress_namespace=\"internet\","
	    "interface=\"fou4_0a010102\",namespace=\"default\",pod=\"pod2\","
	    "pod_ip=\"10.1.1.2\"} 1");
}
END_TEST

START_TEST(watch_add_and_change)
{
	initial_pods();
	sync_pod(pod_json("pod5", NULL, "Running", false, "10.1.1.5", NULL));
	sync_pod(pod_json("pod6", "egress2", "Running", false, "10.1.1.6", NULL));
	ck_assert(mock_has(&mk, "10.1.1.6") && !mock_has(&mk, "10.1.1.5"));
	ck_assert_uint_eq(egress_watch_pod_count(w), 3);
	/* pod1 gains the annotation; pod3 changes its IPs: the old one's tunnel goes. */
	sync_pod(pod_json("pod1", "egress2", "Running", false, "10.1.1.1", "fd01::1"));
	sync_pod(pod_json("pod3", "egress2", "Running", false, "10.1.1.7", "fd01::7"));
	ck_assert(mock_has(&mk, "10.1.1.1") && mock_has(&mk, "fd01::1"));
	ck_assert(mock_has(&mk, "10.1.1.7") && mock_has(&mk, "fd01::7"));
	ck_assert(!mock_has(&mk, "fd01::3"));
	ck_assert_uint_eq(egress_watch_pod_count(w), 4);
	assert_no_metric("pod_ip=\"fd01::3\"");
}
END_TEST

START_TEST(watch_delete)
{
	initial_pods();
	sync_gone("pod2");
	ck_assert_uint_eq(mk.npeers, 1);
	ck_assert(mock_has(&mk, "fd01::3"));
	assert_metric("coil_egress_client_pod_count{egress=\"egress2\",namespace=\"internet\"} 1");
	assert_no_metric("pod=\"pod2\"");
	/* Deleting an unknown pod is nothing. */
	sync_gone("nobody");
	ck_assert_uint_eq(mk.npeers, 1);
}
END_TEST

START_TEST(watch_host_network_ignored)
{
	initial_pods();
	sync_pod(pod_json("hostpod", "egress2", "Running", true, "192.168.0.1", NULL));
	ck_assert(!mock_has(&mk, "192.168.0.1"));
	ck_assert_uint_eq(egress_watch_pod_count(w), 2);
}
END_TEST

/* A finished Job's IP is reused by a new pod: whichever order the events come in, the new
 * pod keeps its tunnel. */
START_TEST(watch_ip_reuse)
{
	sync_pod(pod_json("job", "egress2", "Running", false, "10.1.1.5", NULL));
	ck_assert(mock_has(&mk, "10.1.1.5"));
	sync_pod(pod_json("job", "egress2", "Succeeded", false, "10.1.1.5", NULL));
	ck_assert(!mock_has(&mk, "10.1.1.5"));
	sync_pod(pod_json("another", "egress2", "Running", false, "10.1.1.5", NULL));
	sync_gone("job");
	ck_assert(mock_has(&mk, "10.1.1.5"));

	sync_gone("another");
	ck_assert(!mock_has(&mk, "10.1.1.5"));
	sync_pod(pod_json("job", "egress2", "Running", false, "10.1.1.5", NULL));
	sync_pod(pod_json("another", "egress2", "Running", false, "10.1.1.5", NULL));
	sync_pod(pod_json("job", "egress2", "Succeeded", false, "10.1.1.5", NULL));
	sync_gone("job");
	ck_assert(mock_has(&mk, "10.1.1.5"));
	ck_assert_uint_eq(egress_watch_pod_count(w), 1);
}
END_TEST

/* Upstream kept the tunnel of a pod that dropped the annotation; here it goes. */
START_TEST(watch_annotation_dropped)
{
	initial_pods();
	sync_pod(pod_json("pod2", NULL, "Running", false, "10.1.1.2", "fd01::2"));
	ck_assert(!mock_has(&mk, "10.1.1.2") && !mock_has(&mk, "fd01::2"));
	ck_assert_uint_eq(egress_watch_pod_count(w), 1);
	sync_pod(pod_json("pod2", "egress1", "Running", false, "10.1.1.2", "fd01::2"));
	ck_assert(!mock_has(&mk, "10.1.1.2"));
}
END_TEST

/* A dropped IP is released, so it does not pin a tunnel later (upstream leaked it). */
START_TEST(watch_dropped_ip_released)
{
	sync_pod(pod_json("a", "egress2", "Running", false, "10.1.1.8", NULL));
	sync_pod(pod_json("a", "egress2", "Running", false, "10.1.1.9", NULL));
	ck_assert(!mock_has(&mk, "10.1.1.8"));
	ck_assert(!egress_watch_has_peer(w, &(struct nl_ip){0}));
	struct nl_ip gone = ip("10.1.1.8");
	ck_assert(!egress_watch_has_peer(w, &gone));
	sync_pod(pod_json("b", "egress2", "Running", false, "10.1.1.8", NULL));
	sync_gone("b");
	ck_assert(!mock_has(&mk, "10.1.1.8"));
}
END_TEST

START_TEST(watch_family_mismatch_skipped)
{
	mk.v6 = false;
	sync_pod(pod_json("pod2", "egress2", "Running", false, "10.1.1.2", "fd01::2"));
	ck_assert_uint_eq(mk.npeers, 1);
	ck_assert_uint_eq(egress_watch_pod_count(w), 1);
	sync_gone("pod2");
	ck_assert_uint_eq(mk.npeers, 0);
}
END_TEST

/* ---- NAT server plans ---- */

START_TEST(natserver_plans)
{
	struct egress_natserver n = {
	    .local4 = ip("10.1.1.1"), .local6 = ip("fd01::101"), .oif = "eth0"};
	struct nl_rule rules[2];
	ck_assert_uint_eq(egress_natserver_plan_rules(&n, rules), 2);
	ck_assert_int_eq(rules[0].family, AF_INET);
	ck_assert_int_eq(rules[1].family, AF_INET6);
	for (int i = 0; i < 2; i++) {
		ck_assert(rules[i].has_priority);
		ck_assert_uint_eq(rules[i].priority, 2000);
		ck_assert_uint_eq(rules[i].table, 118);
		ck_assert_str_eq(rules[i].iif, "eth0");
	}
	n.local6.family = 0;
	ck_assert_uint_eq(egress_natserver_plan_rules(&n, rules), 1);
	struct nl_ip c = ip("10.1.2.3");
	struct nl_route r = egress_natserver_plan_route(&c, 7);
	char text[NL_PREFIX_STRLEN];
	ck_assert_str_eq(nl_prefix_format(&r.dst, text, sizeof(text)), "10.1.2.3/32");
	ck_assert_uint_eq(r.table, 118);
	ck_assert_uint_eq(r.protocol, 30);
	ck_assert_int_eq(r.oif, 7);
}
END_TEST

/* ---- root: for real in fresh netns ---- */

static int ns = -1, orig = -1;

static void enter_fresh_ns(void)
{
	ck_assert_msg(testns_is_root(), "these tests need root");
	ck_assert_int_eq(testns_switch_new(&ns, &orig), 0);
}

static void leave_ns(void)
{
	testns_leave(&ns, &orig);
}

static size_t count_rules(struct nl_sock *s, int family)
{
	struct nl_rule *rules = NULL;
	size_t n = 0, hits = 0;
	ck_assert_int_eq(nl_rule_list(s, family, &rules, &n, NULL, 0), 0);
	for (size_t i = 0; i < n; i++)
		hits += rules[i].priority == 2000 && rules[i].table == 118 &&
			strcmp(rules[i].iif, "lo") == 0;
	free(rules);
	return hits;
}

static size_t table118_routes(struct nl_sock *s, int family)
{
	struct nl_route_filter f = {.family = family, .table = 118};
	struct nl_route *routes = NULL;
	size_t n = 0;
	ck_assert_int_eq(nl_route_list(s, &f, &routes, &n, NULL, 0), 0);
	free(routes);
	return n;
}

START_TEST(natserver_for_real)
{
	static const enum natrules_backend backends[] = {NATRULES_IPTABLES, NATRULES_NFTABLES};
	static const struct {
		bool v4, v6;
	} fams[] = {{true, true}, {true, false}, {false, true}};
	for (size_t b = 0; b < 2; b++) {
		for (size_t f = 0; f < 3; f++) {
			enter_fresh_ns();
			struct nl_sock s;
			char err[512];
			ck_assert_int_eq(nl_sock_open(&s, err, sizeof(err)), 0);
			struct egress_natserver n = {.oif = "lo", .backend = backends[b]};
			if (fams[f].v4)
				n.local4 = ip("127.0.0.1");
			if (fams[f].v6)
				n.local6 = ip("::1");
			/* Without the marker: this kernel has no dummy links (the guest tests
			 * run the whole Init). */
			for (int twice = 0; twice < 2; twice++)
				ck_assert_msg(egress_natserver_apply(&s, &n, err, sizeof(err)) == 0,
					      "%s", err);
			ck_assert_uint_eq(count_rules(&s, AF_INET), fams[f].v4);
			ck_assert_uint_eq(count_rules(&s, AF_INET6), fams[f].v6);
			/* A client route through an up link (a veth: no dummy module here). */
			struct nl_veth v = {.name = "cl0", .peer_name = "cl1", .peer_netns_fd = -1};
			ck_assert_msg(nl_veth_create(&s, &v, err, sizeof(err)) == 0, "%s", err);
			struct nl_link link;
			ck_assert_int_eq(nl_link_get_by_name(&s, "cl0", &link, NULL, 0), 0);
			struct nl_ip c4 = ip("10.1.2.3"), c6 = ip("fd02::1");
			for (int twice = 0; twice < 2; twice++) {
				int rc4 = egress_natserver_add_client(&s, &n, &c4, &link, err,
								      sizeof(err));
				ck_assert_int_eq(rc4, fams[f].v4 ? 0 : FOUNAT_EFAMILY);
				int rc6 = egress_natserver_add_client(&s, &n, &c6, &link, err,
								      sizeof(err));
				ck_assert_msg(rc6 == (fams[f].v6 ? 0 : FOUNAT_EFAMILY), "%s", err);
			}
			ck_assert_uint_eq(table118_routes(&s, AF_INET), fams[f].v4);
			ck_assert_uint_eq(table118_routes(&s, AF_INET6), fams[f].v6);
			/* Metrics read the nf_tables counters of either backend back. */
			struct egress_env env = {.ns = "internet", .name = "egress2", .pod = "gw"};
			env.local4 = n.local4;
			env.local6 = n.local6;
			struct metrics *m = metrics_new();
			ck_assert_int_eq(egress_metrics_declare(m), 0);
			ck_assert_msg(egress_collect(m, &env, err, sizeof(err)) == 0, "%s", err);
			char *text = metrics_render(m);
			ck_assert_msg(strstr(text, "coil_egress_nftables_masqueraded_packets_total{"
						   "egress=\"egress2\",namespace=\"internet\",pod="
						   "\"gw\",protocol=\"ipv"),
				      "%s", text);
			ck_assert_msg(strstr(text, "coil_egress_nf_conntrack_entries_limit{"), "%s",
				      text);
			free(text);
			metrics_free(m);
			nl_sock_close(&s);
			leave_ns();
		}
	}
}
END_TEST

/* This host's kernel has no fou: Init must say which module is missing. On a kernel that
 * has it, Init must work instead. */
START_TEST(fou_init_names_missing_module)
{
	enter_fresh_ns();
	struct nl_sock s;
	char err[512] = "";
	ck_assert_int_eq(nl_sock_open(&s, err, sizeof(err)), 0);
	struct founat_config c = {.port = 5555, .local4 = ip("127.0.0.1")};
	int rc = founat_init(&s, &c, err, sizeof(err));
	if (access("/sys/module/fou", F_OK) == 0) {
		ck_assert_msg(rc == 0, "%s", err);
	} else {
		ck_assert_int_lt(rc, 0);
		ck_assert_msg(strstr(err, "fou module"), "%s", err);
		bool done = true;
		ck_assert_int_eq(founat_is_initialized(&s, &done, NULL, 0), 0);
		ck_assert(!done);
	}
	nl_sock_close(&s);
	leave_ns();
}
END_TEST

static Suite *egress_suite(void)
{
	Suite *s = suite_create("egress");
	TCase *unit = tcase_create("unit");
	tcase_add_test(unit, env_cases);
	tcase_add_test(unit, pod_decode_cases);
	tcase_add_test(unit, natserver_plans);
	suite_add_tcase(s, unit);
	TCase *watch = tcase_create("watch");
	tcase_add_checked_fixture(watch, watch_setup, watch_teardown);
	tcase_add_test(watch, watch_initial);
	tcase_add_test(watch, watch_add_and_change);
	tcase_add_test(watch, watch_delete);
	tcase_add_test(watch, watch_host_network_ignored);
	tcase_add_test(watch, watch_ip_reuse);
	tcase_add_test(watch, watch_annotation_dropped);
	tcase_add_test(watch, watch_dropped_ip_released);
	tcase_add_test(watch, watch_family_mismatch_skipped);
	suite_add_tcase(s, watch);
	TCase *kernel = tcase_create("kernel");
	tcase_set_timeout(kernel, 120);
	tcase_add_test(kernel, natserver_for_real);
	tcase_add_test(kernel, fou_init_names_missing_module);
	suite_add_tcase(s, kernel);
	return s;
}

int main(int argc, char **argv)
{
	/* With an argument, only that test case runs (the unit label runs "unit" and
	 * "watch" without root; the root label runs everything). */
	SRunner *sr = srunner_create(egress_suite());
	srunner_run(sr, NULL, argc > 1 ? argv[1] : NULL, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	if (argc > 2) {
		srunner_free(sr);
		sr = srunner_create(egress_suite());
		srunner_run(sr, NULL, argv[2], CK_NORMAL);
		failed += srunner_ntests_failed(sr);
	}
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
