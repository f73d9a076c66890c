/* The AddressPool and BlockRequest reconcilers, run by the controller (informers, queues,
 * workers) against the test API server with a mock pool manager (upstream's reconciler cases). */
#include "coilapi/coilapi.h"
#include "fixture.h"
#include "mockpools.h"
#include "suites.h"

#include <stdio.h>
#include <string.h>

#define POOL_SUBNETS "[{\"ipv4\":\"10.2.0.0/29\"}]"

static struct ipamctl_controller *ctl;
static struct ipamctl_pools pools;
static char err[1024];

static void start_controller(void)
{
	pools = mock_pools();
	struct ipamctl_controller_config cfg = {
	    .client = ipt_ctl_client, .pools = pools, .disable_gc = true};
	ck_assert_int_eq(ipamctl_controller_start(&cfg, &ctl, err, sizeof(err)), 0);
	ck_assert(ipamctl_controller_wait_synced(ctl, 10000));
}

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

static void create_owned_block(const char *name, const json_t *pool)
{
	json_decref(ipt_create(
	    &COILAPI_RES_ADDRESSBLOCKS,
	    "{\"apiVersion\":\"coil.cybozu.com/v2\",\"kind\":\"AddressBlock\",\"metadata\":{"
	    "\"name\":\"%s\",\"ownerReferences\":[{\"apiVersion\":\"coil.cybozu.com/v2\","
	    "\"kind\":\"AddressPool\",\"name\":\"%s\",\"uid\":\"%s\",\"controller\":true,"
	    "\"blockOwnerDeletion\":true}]},\"index\":0}",
	    name, kube_obj_name(pool), kube_obj_uid(pool)));
}

START_TEST(pool_reconciler_syncs_and_drops)
{
	json_t *def = ipt_create_pool("default", 1, POOL_SUBNETS, false);
	json_decref(ipt_create_pool("v4", 2, POOL_SUBNETS, false));
	start_controller();
	ck_assert(IPT_EVENTUALLY(mock_syncs("default") == 1 && mock_syncs("v4") == 1, 5000));
	ck_assert(IPT_CONSISTENTLY(mock_syncs("default") == 1 && mock_syncs("v4") == 1, 300));
	ck_assert_int_eq(mock_drops("default") + mock_drops("v4"), 0);

	/* Creating a block owned by the pool does not trigger it; deleting it does. */
	create_owned_block("default-0", def);
	ck_assert(IPT_CONSISTENTLY(mock_syncs("default") == 1, 500));
	ipt_remove(&COILAPI_RES_ADDRESSBLOCKS, "default-0");
	ck_assert(IPT_EVENTUALLY(mock_syncs("default") == 2, 5000));
	ck_assert_int_eq(mock_syncs("v4"), 1);

	ipt_remove(&COILAPI_RES_ADDRESSPOOLS, "default");
	ck_assert(IPT_EVENTUALLY(mock_drops("default") == 1, 5000));
	ck_assert_int_eq(mock_drops("v4"), 0);
	json_decref(def);
}
END_TEST

static bool pool_gone(const char *name)
{
	json_t *pool = ipt_get(&COILAPI_RES_ADDRESSPOOLS, name);
	json_decref(pool);
	return pool == NULL;
}

START_TEST(pool_reconciler_finalizer)
{
	json_decref(ipt_create_pool("default", 1, POOL_SUBNETS, true));
	mock_set_used(true);
	start_controller();
	ck_assert(IPT_EVENTUALLY(mock_syncs("default") == 1, 5000));
	ck_assert_int_eq(kube_delete(ipt_client, &COILAPI_RES_ADDRESSPOOLS, NULL, "default", NULL,
				     err, sizeof(err)),
			 0);
	ck_assert(IPT_CONSISTENTLY(!pool_gone("default"), 1000));
	mock_set_used(false);
	json_t *patch = json_pack("{s:{s:{s:s}}}", "metadata", "annotations", "touch", "1");
	ck_assert_int_eq(kube_patch(ipt_client, &COILAPI_RES_ADDRESSPOOLS, NULL, "default", NULL,
				    KUBE_PATCH_MERGE, patch, NULL, err, sizeof(err)),
			 0);
	json_decref(patch);
	ck_assert(IPT_EVENTUALLY(pool_gone("default"), 5000));
}
END_TEST

/* The reconciler function alone: spec and errors of the pool manager. */
START_TEST(pool_reconciler_errors)
{
	pools = mock_pools();
	ck_assert_int_eq(ipamctl_reconcile_pool(ipt_ctl_client, &pools, "nosuch", err, sizeof(err)),
			 0);
	ck_assert_int_eq(mock_drops("nosuch"), 1);
	json_decref(ipt_create_pool("default", 1, POOL_SUBNETS, true));
	ck_assert_int_eq(
	    ipamctl_reconcile_pool(ipt_ctl_client, &pools, "default", err, sizeof(err)), 0);
	ck_assert_int_eq(mock_syncs("default"), 1);
	json_t *pool = ipt_get(&COILAPI_RES_ADDRESSPOOLS, "default");
	ck_assert_int_eq(json_array_size(kube_json_path(pool, "metadata.finalizers")), 1);
	/* The spec is written back unchanged when the finalizer goes. */
	json_t *spec = json_deep_copy(json_object_get(pool, "spec"));
	json_decref(pool);
	json_t *patch = json_pack("{s:{s:[s,s]}}", "metadata", "finalizers", "coil.cybozu.com",
				  "example.com/keep");
	ck_assert_int_eq(kube_patch(ipt_client, &COILAPI_RES_ADDRESSPOOLS, NULL, "default", NULL,
				    KUBE_PATCH_MERGE, patch, NULL, err, sizeof(err)),
			 0);
	json_decref(patch);
	ck_assert_int_eq(kube_delete(ipt_client, &COILAPI_RES_ADDRESSPOOLS, NULL, "default", NULL,
				     err, sizeof(err)),
			 0);
	ck_assert_int_eq(
	    ipamctl_reconcile_pool(ipt_ctl_client, &pools, "default", err, sizeof(err)), 0);
	pool = ipt_get(&COILAPI_RES_ADDRESSPOOLS, "default");
	ck_assert_int_eq(json_array_size(kube_json_path(pool, "metadata.finalizers")), 1);
	ck_assert_str_eq(
	    json_string_value(json_array_get(kube_json_path(pool, "metadata.finalizers"), 0)),
	    "example.com/keep");
	ck_assert(json_equal(spec, json_object_get(pool, "spec")));
	json_decref(spec);
	json_decref(pool);
}
END_TEST

static json_t *request_status(const char *name)
{
	json_t *req = ipt_get(&COILAPI_RES_BLOCKREQUESTS, name);
	json_t *status = json_incref(json_object_get(req, "status"));
	json_decref(req);
	return status;
}

static size_t conditions(const char *name)
{
	json_t *status = request_status(name);
	size_t n = json_array_size(json_object_get(status, "conditions"));
	json_decref(status);
	return n;
}

static void set_status(const char *name, const char *status_json)
{
	json_t *req = ipt_get(&COILAPI_RES_BLOCKREQUESTS, name);
	json_object_set_new(req, "status", json_loads(status_json, 0, NULL));
	ck_assert_int_eq(kube_update_sub(ipt_client, &COILAPI_RES_BLOCKREQUESTS, req, "status",
					 NULL, err, sizeof(err)),
			 0);
	json_decref(req);
}

static void expect_condition(const json_t *cond, const char *type, const char *reason,
			     const char *message)
{
	ck_assert_str_eq(json_string_value(json_object_get(cond, "type")), type);
	ck_assert_str_eq(json_string_value(json_object_get(cond, "status")), "True");
	ck_assert_str_eq(json_string_value(json_object_get(cond, "reason")), reason);
	ck_assert_str_eq(json_string_value(json_object_get(cond, "message")), message);
	struct timespec probe, transition;
	ck_assert_int_eq(
	    kube_time_parse(json_string_value(json_object_get(cond, "lastProbeTime")), &probe), 0);
	ck_assert_int_eq(
	    kube_time_parse(json_string_value(json_object_get(cond, "lastTransitionTime")),
			    &transition),
	    0);
	ck_assert_int_eq(probe.tv_sec, transition.tv_sec);
}

static const char *block_name_of(const json_t *status)
{
	return json_string_value(json_object_get(status, "addressBlockName"));
}

START_TEST(request_reconciler)
{
	json_t *br0 = ipt_create_request("br-0", "node0", "default");
	json_decref(ipt_create_request("br-1", "node1", "default"));
	set_status("br-1", "{\"conditions\":[{\"type\":\"Complete\",\"status\":\"True\","
			   "\"reason\":\"foo\",\"message\":\"foo\"}]}");
	start_controller();

	/* 1: exactly one allocation at startup, for br-0. */
	ck_assert(IPT_EVENTUALLY(conditions("br-0") == 1, 5000));
	ck_assert(IPT_CONSISTENTLY(mock_allocations() == 1, 300));
	json_t *status = request_status("br-0");
	ck_assert_str_eq(block_name_of(status), "default-0");
	expect_condition(json_array_get(json_object_get(status, "conditions"), 0), "Complete",
			 "allocated", "allocated a block default-0");
	json_decref(status);
	status = request_status("br-1");
	ck_assert_str_eq(json_string_value(json_object_get(
			     json_array_get(json_object_get(status, "conditions"), 0), "reason")),
			 "foo");
	json_decref(status);

	/* 2: a block already carved for br-0's UID is reused when its conditions are cleared. */
	json_decref(ipt_create(&COILAPI_RES_ADDRESSBLOCKS,
			       "{\"apiVersion\":\"coil.cybozu.com/v2\",\"kind\":\"AddressBlock\","
			       "\"metadata\":{\"name\":\"default-0-already-allocated\",\"labels\":{"
			       "\"coil.cybozu.com/pool\":\"default\",\"coil.cybozu.com/node\":"
			       "\"node0\",\"coil.cybozu.com/request\":\"%s\"}},\"index\":0}",
			       kube_obj_uid(br0)));
	/* The reconciler looks for that block in its cache (as upstream's does), which the block
	 * watch fills on its own stream: give it time to arrive before the request is reopened. */
	ck_assert(IPT_CONSISTENTLY(mock_allocations() == 1, 1000));
	set_status("br-0", "{\"conditions\":[]}");
	ck_assert(IPT_EVENTUALLY(conditions("br-0") == 1, 5000));
	status = request_status("br-0");
	ck_assert_str_eq(block_name_of(status), "default-0-already-allocated");
	json_decref(status);
	ck_assert_int_eq(mock_allocations(), 1);

	/* 3: a new request gets a block. */
	json_decref(ipt_create_request("br-2", "node2", "default"));
	ck_assert(IPT_EVENTUALLY(mock_allocations() == 2 && conditions("br-2") == 1, 5000));
	status = request_status("br-2");
	ck_assert_str_eq(block_name_of(status), "default-1");
	json_decref(status);

	/* 4: the pool is exhausted: the failure status, no allocation. */
	json_decref(ipt_create_request("br-3", "node3", "default"));
	ck_assert(IPT_EVENTUALLY(conditions("br-3") == 2, 5000));
	ck_assert_int_eq(mock_allocations(), 2);
	status = request_status("br-3");
	json_t *conds = json_object_get(status, "conditions");
	expect_condition(json_array_get(conds, 0), "Complete", "completed with failure",
			 "completed with failure");
	expect_condition(json_array_get(conds, 1), "Failed", "out of blocks",
			 "pool default does not have free blocks");
	ck_assert_ptr_null(json_object_get(status, "addressBlockName"));
	json_decref(status);
	json_decref(br0);
}
END_TEST

/* Other allocation errors leave the request without status and are retried with backoff. */
START_TEST(request_reconciler_retries_errors)
{
	start_controller();
	json_decref(ipt_create_request("br-x", "node0", "broken"));
	ck_assert(IPT_EVENTUALLY(mock_allocate_calls("broken") >= 3, 5000));
	ck_assert_int_eq(conditions("br-x"), 0);
	/* Deleted requests are not processed any more. */
	ipt_remove(&COILAPI_RES_BLOCKREQUESTS, "br-x");
	test_sleep_ms(100);
	int calls = mock_allocate_calls("broken");
	ck_assert(IPT_CONSISTENTLY(mock_allocate_calls("broken") <= calls + 1, 1000));
}
END_TEST

TCase *reconcile_tcase(void)
{
	TCase *tc = tcase_create("reconcilers");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, pool_reconciler_syncs_and_drops);
	tcase_add_test(tc, pool_reconciler_finalizer);
	tcase_add_test(tc, pool_reconciler_errors);
	tcase_add_test(tc, request_reconciler);
	tcase_add_test(tc, request_reconciler_retries_errors);
	return tc;
}
