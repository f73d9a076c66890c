/* The orphan-block GC (blocks of nodes that do not exist go) and its Node-deletion trigger. */
#include "coilapi/coilapi.h"
#include "fixture.h"
#include "mockpools.h"
#include "suites.h"

#include <stdio.h>

static struct ipamctl_controller *ctl;
static char err[1024];

static void setup(void)
{
	mock_reset();
	ctl = NULL;
}

static void teardown(void)
{
	ipamctl_controller_stop(ctl);
	ipt_cleanup();
}

static void start_controller(long gc_interval_ms)
{
	struct ipamctl_controller_config cfg = {
	    .client = ipt_ctl_client, .pools = mock_pools(), .gc_interval_ms = gc_interval_ms};
	ck_assert_int_eq(ipamctl_controller_start(&cfg, &ctl, err, sizeof(err)), 0);
	ck_assert(ipamctl_controller_wait_synced(ctl, 10000));
}

/* A block labeled with node (NULL: no node label), with or without our finalizer. */
static void create_block(const char *name, int index, const char *node, bool finalizer)
{
	char labels[256] = "";
	if (node)
		snprintf(labels, sizeof(labels), ",\"labels\":{\"coil.cybozu.com/node\":\"%s\"}",
			 node);
	json_decref(ipt_create(&COILAPI_RES_ADDRESSBLOCKS,
			       "{\"apiVersion\":\"coil.cybozu.com/v2\",\"kind\":\"AddressBlock\","
			       "\"metadata\":{\"name\":\"%s\"%s%s},\"index\":%d}",
			       name, labels,
			       finalizer ? ",\"finalizers\":[\"coil.cybozu.com\"]" : "", index));
}

static bool exists(const char *name)
{
	json_t *obj = ipt_get(&COILAPI_RES_ADDRESSBLOCKS, name);
	json_decref(obj);
	return obj != NULL;
}

START_TEST(gc_removes_orphans)
{
	const char *nodes[] = {"node1", "node4", "node5", "node6"};
	for (size_t i = 0; i < 4; i++)
		ipt_create_node(nodes[i]);
	create_block("default-0", 0, "node1", false);
	create_block("default-1", 1, "node2", false);
	create_block("v4-0", 0, "node3", false);
	create_block("v4-1", 1, "node1", false);
	/* e2e's case: a finalizer and a far index; and a block without a node label. */
	create_block("default-100", 100, "coil-worker100", true);
	create_block("nolabel-0", 0, NULL, true);
	start_controller(3000);
	ck_assert(IPT_EVENTUALLY(ipt_count(&COILAPI_RES_ADDRESSBLOCKS, NULL) == 2, 5000));
	ck_assert(exists("default-0") && exists("v4-1"));
}
END_TEST

START_TEST(gc_runs_periodically)
{
	ipt_create_node("node1");
	start_controller(500);
	create_block("default-0", 0, "node2", true);
	ck_assert(IPT_EVENTUALLY(!exists("default-0"), 3000));
}
END_TEST

/* With an hour between runs, only the Node watch can remove a block created after start. */
START_TEST(gc_on_node_deletion)
{
	ipt_create_node("node1");
	ipt_create_node("node2");
	start_controller(3600 * 1000L);
	create_block("default-0", 0, "node1", true);
	create_block("default-1", 1, "node2", true);
	ck_assert(IPT_CONSISTENTLY(exists("default-1"), 500));
	ipt_remove(&KUBE_RES_NODES, "node2");
	ck_assert(IPT_EVENTUALLY(!exists("default-1"), 3000));
	ck_assert(exists("default-0"));
}
END_TEST

/* One run as a function: the count, and blocks racing with the run. */
START_TEST(gc_function)
{
	int removed = -1;
	ipt_create_node("node1");
	create_block("a-0", 0, "node1", true);
	create_block("a-1", 1, "gone", true);
	create_block("a-2", 2, "", false);
	ck_assert_int_eq(ipamctl_gc_orphan_blocks(ipt_ctl_client, NULL, &removed, err, sizeof(err)),
			 0);
	ck_assert_int_eq(removed, 2);
	ck_assert(exists("a-0") && !exists("a-1") && !exists("a-2"));
	ck_assert_int_eq(ipamctl_gc_orphan_blocks(ipt_ctl_client, NULL, &removed, err, sizeof(err)),
			 0);
	ck_assert_int_eq(removed, 0);
}
END_TEST

TCase *gc_tcase(void)
{
	TCase *tc = tcase_create("gc");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, gc_removes_orphans);
	tcase_add_test(tc, gc_runs_periodically);
	tcase_add_test(tc, gc_on_node_deletion);
	tcase_add_test(tc, gc_function);
	return tc;
}
