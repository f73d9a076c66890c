/* coil router against the test API server with a fake route syncer (upstream's router test), plus
 * the trigger rules of docs/behaviour/router.md: no sync at start without blocks, ticker syncs, and
 * a failed sync or a failed Node list ending the loop with an error. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "coilapi/coilapi.h"
#include "apiserver.h"
#include "router/router.h"

static struct apiserver srv;
static struct kube_client *client;	  /* the administrator: sets up and checks */
static struct kube_client *router_client; /* coil-router's token: what the router gets */

/* The fake syncer: keeps the last plan as "gw dst" lines, in the order given. */
static struct {
	pthread_mutex_t lock;
	char last[2048];
	int calls;
	int fail_with; /* a negative errno to fail every sync */
} fake = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int fake_sync(void *arg, const struct router_route *routes, size_t n, char *err,
		     size_t errlen)
{
	pthread_mutex_lock(&fake.lock);
	size_t o = 0;
	fake.last[0] = '\0';
	for (size_t i = 0; i < n && o < sizeof(fake.last); i++) {
		char gw[NL_IP_STRLEN], dst[NL_PREFIX_STRLEN];
		o += (size_t)snprintf(fake.last + o, sizeof(fake.last) - o, "%s%s %s", i ? "," : "",
				      nl_ip_format(&routes[i].gateway, gw, sizeof(gw)),
				      nl_prefix_format(&routes[i].dst, dst, sizeof(dst)));
	}
	fake.calls++;
	int rc = fake.fail_with;
	pthread_mutex_unlock(&fake.lock);
	if (rc)
		snprintf(err, errlen, "fake syncer failed on purpose");
	return rc;
}

static void create_crd(void)
{
	json_error_t jerr;
	json_t *crd = json_load_file(ROUTER_TEST_CRD_JSON, 0, &jerr);
	ck_assert_msg(crd != NULL, "%s: %s", ROUTER_TEST_CRD_JSON, jerr.text);
	const struct kube_resource crds = {"apiextensions.k8s.io", "v1",
					   "customresourcedefinitions", "CustomResourceDefinition",
					   false};
	char err[512];
	ck_assert_msg(kube_create(client, &crds, NULL, crd, NULL, err, sizeof(err)) == 0, "%s",
		      err);
	json_decref(crd);
	json_t *list = NULL;
	int rc = -1;
	for (long start = test_now_ms(); rc != 0 && test_now_ms() - start < 10000;)
		if ((rc = kube_list(client, &COILAPI_RES_ADDRESSBLOCKS, NULL, NULL, &list, err,
				    sizeof(err))) != 0)
			test_sleep_ms(50);
	ck_assert_msg(rc == 0, "AddressBlocks not served: %s", err);
	json_decref(list);
}

static void setup(void)
{
	apiserver_start(&srv, NULL, NULL);
	client = apiserver_client(&srv);
	create_crd();
	apiserver_apply_rbac(&srv);
	router_client = apiserver_sa_client(&srv, "coil-router");
	pthread_mutex_lock(&fake.lock);
	fake.last[0] = '\0';
	fake.calls = 0;
	fake.fail_with = 0;
	pthread_mutex_unlock(&fake.lock);
}

static void teardown(void)
{
	apiserver_assert_no_denials(&srv, client);
	kube_client_free(client);
	kube_client_free(router_client);
	client = router_client = NULL;
	apiserver_stop(&srv);
}

static void create_node(const char *name, const char *v4, const char *v6)
{
	char err[512];
	json_t *node = json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "v1", "kind", "Node",
				 "metadata", "name", name);
	ck_assert_msg(kube_create(client, &KUBE_RES_NODES, NULL, node, NULL, err, sizeof(err)) == 0,
		      "node %s: %s", name, err);
	json_decref(node);
	json_t *addrs = json_array();
	json_array_append_new(addrs, json_pack("{s:s,s:s}", "type", "Hostname", "address", name));
	if (v4)
		json_array_append_new(addrs,
				      json_pack("{s:s,s:s}", "type", "InternalIP", "address", v4));
	if (v6)
		json_array_append_new(addrs,
				      json_pack("{s:s,s:s}", "type", "InternalIP", "address", v6));
	json_t *patch = json_pack("{s:{s:o}}", "status", "addresses", addrs);
	ck_assert_msg(kube_patch(client, &KUBE_RES_NODES, NULL, name, "status", KUBE_PATCH_MERGE,
				 patch, NULL, err, sizeof(err)) == 0,
		      "node %s status: %s", name, err);
	json_decref(patch);
}

static void create_block(const char *name, const char *node, const char *v4, const char *v6)
{
	char err[512];
	json_t *b =
	    json_pack("{s:s,s:s,s:{s:s,s:{s:s,s:s}},s:i}", "apiVersion", "coil.cybozu.com/v2",
		      "kind", "AddressBlock", "metadata", "name", name, "labels",
		      "coil.cybozu.com/node", node, "coil.cybozu.com/pool", "default", "index", 0);
	if (v4)
		json_object_set_new(b, "ipv4", json_string(v4));
	if (v6)
		json_object_set_new(b, "ipv6", json_string(v6));
	ck_assert_msg(
	    kube_create(client, &COILAPI_RES_ADDRESSBLOCKS, NULL, b, NULL, err, sizeof(err)) == 0,
	    "block %s: %s", name, err);
	json_decref(b);
}

struct runner {
	struct router *router;
	struct metrics *metrics;
	pthread_t thread;
	int rc;
	char err[512];
};

static void *run_thread(void *arg)
{
	struct runner *run = arg;
	run->rc = router_run(run->router, run->err, sizeof(run->err));
	return NULL;
}

static void start_router(struct runner *run, long interval_ms)
{
	memset(run, 0, sizeof(*run));
	run->metrics = metrics_new();
	struct router_config cfg = {.node_name = "node1",
				    .update_interval_ms = interval_ms,
				    .sync = fake_sync,
				    .metrics = run->metrics};
	char err[512];
	ck_assert_msg(router_new(router_client, &cfg, &run->router, err, sizeof(err)) == 0, "%s",
		      err);
	ck_assert_int_eq(pthread_create(&run->thread, NULL, run_thread, run), 0);
}

/* Joins the loop (stopping it first unless it is expected to end on its own). */
static int finish_router(struct runner *run, bool stop)
{
	if (stop)
		router_stop(run->router);
	pthread_join(run->thread, NULL);
	router_free(run->router);
	metrics_free(run->metrics);
	return run->rc;
}

static bool fake_matches(const char *want)
{
	pthread_mutex_lock(&fake.lock);
	bool same = strcmp(fake.last, want) == 0;
	pthread_mutex_unlock(&fake.lock);
	return same;
}

static void wait_for_plan(const char *want)
{
	for (long start = test_now_ms(); !fake_matches(want); test_sleep_ms(20))
		ck_assert_msg(test_now_ms() - start < 10000, "plan \"%s\" never came; last \"%s\"",
			      want, fake.last);
}

static int fake_calls(void)
{
	pthread_mutex_lock(&fake.lock);
	int n = fake.calls;
	pthread_mutex_unlock(&fake.lock);
	return n;
}

/* The value of a series in rendered metrics, or -1. */
static double metric_value(struct metrics *m, const char *series)
{
	char *text = metrics_render(m);
	const char *at = strstr(text, series);
	double v = at ? strtod(at + strlen(series), NULL) : -1;
	free(text);
	return v;
}

START_TEST(test_spec_scenario)
{
	create_node("node1", "10.20.30.41", "fd10::41");
	create_node("node4", NULL, "fd10::44");
	create_node("node5", "10.20.30.45", NULL);
	create_node("node6", "10.20.30.46", "fd10::46");
	create_block("block-0", "node1", "10.30.1.0/24", "fd02::100/120");
	create_block("block-1", "node2", "10.30.2.0/24", "fd02::200/120");
	create_block("block-2", "node4", "10.30.4.0/24", "fd02::400/120");
	create_block("block-3", "node5", "10.30.5.0/24", "fd02::500/120");
	create_block("block-4", "node6", "10.30.6.0/24", "fd02::600/120");
	struct runner run;
	start_router(&run, 3600 * 1000L);
	/* 1: no routes via node1; node2 does not exist; node4 has no IPv4, node5 no IPv6. */
	wait_for_plan("10.20.30.45 10.30.5.0/24,10.20.30.46 10.30.6.0/24,"
		      "fd10::44 fd02::400/120,fd10::46 fd02::600/120");
	/* 2: node6's new blocks join its gateways in block-name order. */
	create_block("block-5", "node6", "10.30.7.0/24", NULL);
	create_block("block-6", "node6", NULL, "fd02::800/120");
	wait_for_plan("10.20.30.45 10.30.5.0/24,10.20.30.46 10.30.6.0/24,"
		      "10.20.30.46 10.30.7.0/24,fd10::44 fd02::400/120,fd10::46 fd02::600/120,"
		      "fd10::46 fd02::800/120");
	/* 3: metrics. The counter moves after the syncer returned, so wait for it. */
	for (long start = test_now_ms();
	     metric_value(run.metrics, "coil_router_syncs_total{node=\"node1\"} ") < 2;
	     test_sleep_ms(20))
		ck_assert(test_now_ms() - start < 5000);
	ck_assert_double_eq(metric_value(run.metrics, "coil_router_routes_synced{node=\"node1\"} "),
			    6);
	ck_assert_uint_ge(router_sync_count(run.router), 2);
	/* Deleting a block syncs again without it. */
	char err[512];
	ck_assert_int_eq(kube_delete(client, &COILAPI_RES_ADDRESSBLOCKS, NULL, "block-3", NULL, err,
				     sizeof(err)),
			 0);
	wait_for_plan("10.20.30.46 10.30.6.0/24,10.20.30.46 10.30.7.0/24,"
		      "fd10::44 fd02::400/120,fd10::46 fd02::600/120,fd10::46 fd02::800/120");
	ck_assert_int_eq(finish_router(&run, true), 0);
}
END_TEST

START_TEST(test_no_blocks_no_sync_until_tick)
{
	create_node("node1", "10.20.30.41", NULL);
	struct runner run;
	start_router(&run, 3600 * 1000L);
	test_sleep_ms(800);
	ck_assert_int_eq(fake_calls(), 0);
	ck_assert_double_eq(metric_value(run.metrics, "coil_router_syncs_total{node=\"node1\"} "),
			    0);
	ck_assert_int_eq(finish_router(&run, true), 0);

	/* With a short interval the ticker alone drives syncs. */
	start_router(&run, 200);
	for (long start = test_now_ms(); fake_calls() < 3; test_sleep_ms(20))
		ck_assert_msg(test_now_ms() - start < 5000, "ticker syncs: %d", fake_calls());
	ck_assert_int_eq(finish_router(&run, true), 0);
}
END_TEST

START_TEST(test_failed_sync_ends_loop)
{
	create_node("node2", "10.20.30.42", NULL);
	create_block("block-0", "node2", "10.30.2.0/24", NULL);
	pthread_mutex_lock(&fake.lock);
	fake.fail_with = -EIO;
	pthread_mutex_unlock(&fake.lock);
	struct runner run;
	start_router(&run, 3600 * 1000L);
	ck_assert_int_eq(finish_router(&run, false), -EIO);
	ck_assert_str_eq(run.err, "fake syncer failed on purpose");
	ck_assert_int_eq(fake_calls(), 1);
}
END_TEST

START_TEST(test_failed_node_list_ends_loop)
{
	create_block("block-0", "node2", "10.30.2.0/24", NULL);
	apiserver_fault(client, "{\"fail_next\": 100, \"status\": 500, \"path_regex\": "
				"\"^/api/v1/nodes\", \"method\": \"GET\"}");
	struct runner run;
	start_router(&run, 3600 * 1000L);
	ck_assert_int_lt(finish_router(&run, false), 0);
	ck_assert_msg(strstr(run.err, "failed to list Nodes") != NULL, "%s", run.err);
	ck_assert_int_eq(fake_calls(), 0);
}
END_TEST

START_TEST(test_config_checked)
{
	struct metrics *m = metrics_new();
	struct router *r = NULL;
	char err[256];
	struct router_config no_node = {
	    .update_interval_ms = 1000, .sync = fake_sync, .metrics = m};
	ck_assert_int_eq(router_new(router_client, &no_node, &r, err, sizeof(err)), -EINVAL);
	struct router_config no_interval = {.node_name = "n", .sync = fake_sync, .metrics = m};
	ck_assert_int_eq(router_new(router_client, &no_interval, &r, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_null(r);
	metrics_free(m);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("router with the test API server");
	TCase *tc = tcase_create("apiserver");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_spec_scenario);
	tcase_add_test(tc, test_no_blocks_no_sync_until_tick);
	tcase_add_test(tc, test_failed_sync_ends_loop);
	tcase_add_test(tc, test_failed_node_list_ends_loop);
	tcase_add_test(tc, test_config_checked);
	suite_add_tcase(suite, tc);
	SRunner *sr = srunner_create(suite);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
