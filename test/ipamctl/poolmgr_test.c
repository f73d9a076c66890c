/* The pool manager against the test API server: upstream's pool manager cases and the carving
 * examples of docs/behaviour/ipam-controller.md. */
#include "coilapi/coilapi.h"
#include "fixture.h"
#include "ipamctl/ipamctl.h"
#include "suites.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_SUBNETS                                                                            \
	"[{\"ipv4\":\"10.2.0.0/29\",\"ipv6\":\"fd02::0200/125\"},"                                 \
	"{\"ipv4\":\"10.3.0.0/30\",\"ipv6\":\"fd02::0300/126\"}]"
#define V4_SUBNETS "[{\"ipv4\":\"10.4.0.0/29\"}]"

static struct metrics *metrics;
static struct ipamctl_pool_manager *pm;
static char err[1024];

static void setup(void)
{
	json_decref(ipt_create_pool("default", 1, DEFAULT_SUBNETS, false));
	json_decref(ipt_create_pool("v4", 2, V4_SUBNETS, false));
	metrics = metrics_new();
	ck_assert_int_eq(ipamctl_pool_manager_new(ipt_ctl_client, metrics, &pm, err, sizeof(err)),
			 0);
}

static void teardown(void)
{
	ipamctl_pool_manager_free(pm);
	metrics_free(metrics);
	ipt_cleanup();
}

static double gauge(const char *name, const char *pool)
{
	char *text = metrics_render(metrics);
	double value = ipt_metric(text, name, pool);
	free(text);
	return value;
}

/* Allocates and checks the block's index, CIDRs, labels and finalizer, and that it exists. */
static void expect_block(const char *pool, const char *node, const char *uid, int index,
			 const char *ipv4, const char *ipv6)
{
	json_t *block = NULL;
	int ret = ipamctl_pool_manager_allocate(pm, pool, node, uid, &block, err, sizeof(err));
	ck_assert_msg(ret == 0, "allocate %s for %s: %s", pool, node, err);
	ck_assert_int_eq(json_integer_value(json_object_get(block, "index")), index);
	ck_assert_str_eq(json_string_value(json_object_get(block, "ipv4")), ipv4);
	if (ipv6)
		ck_assert_str_eq(json_string_value(json_object_get(block, "ipv6")), ipv6);
	else
		ck_assert_ptr_null(json_object_get(block, "ipv6"));
	ck_assert_str_eq(kube_obj_label(block, "coil.cybozu.com/node"), node);
	ck_assert_str_eq(kube_obj_label(block, "coil.cybozu.com/pool"), pool);
	ck_assert_str_eq(kube_obj_label(block, "coil.cybozu.com/request"), uid);
	json_t *fin = json_array_get(kube_json_path(block, "metadata.finalizers"), 0);
	ck_assert_str_eq(json_string_value(fin), "coil.cybozu.com");
	json_t *stored = ipt_get(&COILAPI_RES_ADDRESSBLOCKS, kube_obj_name(block));
	ck_assert_ptr_nonnull(stored);
	json_decref(stored);
	json_decref(block);
}

static bool is_used(const char *pool)
{
	bool used = false;
	ck_assert_int_eq(ipamctl_pool_manager_is_used(pm, pool, &used, err, sizeof(err)), 0);
	return used;
}

static bool synced_and_allocated(const char *pool, double allocated)
{
	return ipamctl_pool_manager_sync_pool(pm, pool, err, sizeof(err)) == 0 &&
	       gauge("coil_controller_allocated_blocks", pool) == allocated;
}

START_TEST(default_pool)
{
	ck_assert(!is_used("default"));
	expect_block("default", "node1", "uid-0", 0, "10.2.0.0/31", "fd02::200/127");
	ck_assert(is_used("default"));
	ck_assert(gauge("coil_controller_max_blocks", "default") == 6);
	ck_assert(gauge("coil_controller_allocated_blocks", "default") == 1);

	expect_block("default", "node1", "uid-1", 1, "10.2.0.2/31", "fd02::202/127");
	expect_block("default", "node1", "uid-2", 2, "10.2.0.4/31", "fd02::204/127");
	expect_block("default", "node1", "uid-3", 3, "10.2.0.6/31", "fd02::206/127");
	expect_block("default", "node1", "uid-4", 4, "10.3.0.0/31", "fd02::300/127");
	expect_block("default", "node1", "uid-5", 5, "10.3.0.2/31", "fd02::302/127");
	ck_assert(gauge("coil_controller_allocated_blocks", "default") == 6);
	ck_assert_int_eq(
	    ipamctl_pool_manager_allocate(pm, "default", "node1", "uid-6", NULL, err, sizeof(err)),
	    IPAMCTL_ERR_NO_BLOCK);

	ipt_remove(&COILAPI_RES_ADDRESSBLOCKS, "default-4");
	ck_assert(IPT_EVENTUALLY(synced_and_allocated("default", 5), 1000));
	expect_block("default", "node2", "uid-7", 4, "10.3.0.0/31", "fd02::300/127");

	for (int i = 0; i < 6; i++) {
		char name[32];
		snprintf(name, sizeof(name), "default-%d", i);
		ipt_remove(&COILAPI_RES_ADDRESSBLOCKS, name);
	}
	ck_assert(!is_used("default"));
}
END_TEST

START_TEST(v4_pool)
{
	expect_block("v4", "node1", "uid-0", 0, "10.4.0.0/30", NULL);
	expect_block("v4", "node1", "uid-1", 1, "10.4.0.4/30", NULL);
	ck_assert_int_eq(
	    ipamctl_pool_manager_allocate(pm, "v4", "node1", "uid-2", NULL, err, sizeof(err)),
	    IPAMCTL_ERR_NO_BLOCK);
	ipt_remove(&COILAPI_RES_ADDRESSBLOCKS, "v4-1");
	ck_assert(IPT_EVENTUALLY(synced_and_allocated("v4", 1), 1000));
	expect_block("v4", "node2", "uid-3", 1, "10.4.0.4/30", NULL);
}
END_TEST

/* Worked example: B=5 over a /16 + /112, index 16. */
START_TEST(big_pool_index_16)
{
	json_decref(ipt_create_pool(
	    "big", 5, "[{\"ipv4\":\"10.2.0.0/16\",\"ipv6\":\"fd01:0203:0405:0607::/112\"}]",
	    false));
	for (int i = 0; i < 16; i++) {
		char uid[16];
		snprintf(uid, sizeof(uid), "uid-%d", i);
		ck_assert_int_eq(
		    ipamctl_pool_manager_allocate(pm, "big", "node1", uid, NULL, err, sizeof(err)),
		    0);
	}
	expect_block("big", "node1", "uid-16", 16, "10.2.2.0/27", "fd01:203:405:607::200/123");
	ck_assert(gauge("coil_controller_max_blocks", "big") == 2048);
}
END_TEST

/* The state is rebuilt from the API: blocks made elsewhere (another leader) are skipped, and
 * a hand-made block of the pool's naming without the label is stepped over. */
START_TEST(sync_sees_existing_blocks)
{
	json_decref(ipt_create(&COILAPI_RES_ADDRESSBLOCKS,
			       "{\"apiVersion\":\"coil.cybozu.com/v2\",\"kind\":\"AddressBlock\","
			       "\"metadata\":{\"name\":\"default-0\",\"labels\":{"
			       "\"coil.cybozu.com/pool\":\"default\"}},\"index\":0}"));
	json_decref(ipt_create(&COILAPI_RES_ADDRESSBLOCKS,
			       "{\"apiVersion\":\"coil.cybozu.com/v2\",\"kind\":\"AddressBlock\","
			       "\"metadata\":{\"name\":\"default-1\"},\"index\":1}"));
	expect_block("default", "node1", "u1", 2, "10.2.0.4/31", "fd02::204/127");
	ck_assert(gauge("coil_controller_allocated_blocks", "default") == 2);
}
END_TEST

START_TEST(pool_being_deleted_or_missing)
{
	ck_assert_int_eq(
	    ipamctl_pool_manager_allocate(pm, "nosuch", "node1", "u", NULL, err, sizeof(err)),
	    -ENOENT);
	ck_assert_int_eq(ipamctl_pool_manager_sync_pool(pm, "nosuch", err, sizeof(err)), -ENOENT);
	json_decref(ipt_create_pool("going", 1, V4_SUBNETS, true));
	ck_assert_int_eq(kube_delete(ipt_client, &COILAPI_RES_ADDRESSPOOLS, NULL, "going", NULL,
				     err, sizeof(err)),
			 0);
	ck_assert_int_eq(
	    ipamctl_pool_manager_allocate(pm, "going", "node1", "u", NULL, err, sizeof(err)),
	    IPAMCTL_ERR_NO_BLOCK);
	ck_assert_int_eq(ipt_count(&COILAPI_RES_ADDRESSBLOCKS, NULL), 0);
}
END_TEST

START_TEST(drop_pool_deletes_gauges)
{
	expect_block("v4", "node1", "uid-0", 0, "10.4.0.0/30", NULL);
	ck_assert(gauge("coil_controller_max_blocks", "v4") == 2);
	ipamctl_pool_manager_drop_pool(pm, "v4");
	ck_assert(gauge("coil_controller_max_blocks", "v4") == -1);
	ck_assert(gauge("coil_controller_allocated_blocks", "v4") == -1);
	/* Forgotten state is rebuilt on the next use. */
	expect_block("v4", "node1", "uid-1", 1, "10.4.0.4/30", NULL);
	ck_assert(gauge("coil_controller_allocated_blocks", "v4") == 2);
}
END_TEST

TCase *poolmgr_tcase(void)
{
	TCase *tc = tcase_create("pool_manager");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, default_pool);
	tcase_add_test(tc, v4_pool);
	tcase_add_test(tc, big_pool_index_16);
	tcase_add_test(tc, sync_sees_existing_blocks);
	tcase_add_test(tc, pool_being_deleted_or_missing);
	tcase_add_test(tc, drop_pool_deletes_gauges);
	return tc;
}
