/* Upstream's node IPAM tests adapted to our API: the node IPAM over the Kubernetes block source,
 * with a fake controller answering the BlockRequests. */
#include "coilapi/coilapi.h"
#include "fixture.h"

#include <stdio.h>
#include <string.h>

#define ERRLEN 512

struct ctx {
	struct kubesource *ks;
	struct block_source src;
	struct node_ipam *ipam;
};

static void ctx_open(struct ctx *c, const char *node, long timeout_ms)
{
	c->ks = fx_source(node, timeout_ms);
	c->ipam = fx_ipam(c->ks, &c->src);
}

static void ctx_close(struct ctx *c)
{
	node_ipam_destroy(c->ipam);
	kubesource_close(c->ks);
}

static void alloc_ok(struct ctx *c, const char *pool, const char *id, const char *ifname,
		     const char *want4, const char *want6)
{
	char v4[IP_ADDR_STRLEN], v6[IP_ADDR_STRLEN], err[ERRLEN] = "";
	int ret = node_ipam_allocate(c->ipam, pool, id, ifname, v4, v6, err, sizeof(err));
	ck_assert_msg(ret == 0, "allocate %s/%s from %s: %d %s", id, ifname, pool, ret, err);
	ck_assert_str_eq(v4, want4);
	ck_assert_str_eq(v6, want6);
}

static int alloc_fail(struct ctx *c, const char *pool, const char *id, char *err, size_t len)
{
	char v4[IP_ADDR_STRLEN], v6[IP_ADDR_STRLEN];
	int ret = node_ipam_allocate(c->ipam, pool, id, "eth0", v4, v6, err, len);
	ck_assert_msg(ret < 0, "allocate %s from %s unexpectedly gave %s %s", id, pool, v4, v6);
	return ret;
}

static void free_ok(struct ctx *c, const char *id, const char *ifname)
{
	char err[ERRLEN];
	int ret = node_ipam_free(c->ipam, id, ifname, err, sizeof(err));
	ck_assert_msg(ret == 0, "free %s: %s", id, err);
}

static void owned_is(struct ctx *c, const char *want)
{
	char got[1024];
	fx_owned(c->ipam, got, sizeof(got));
	ck_assert_str_eq(got, want);
}

/* 1. No controller: the acquisition ends at its deadline with "try again later" (-EAGAIN,
 * CNI code 11), keeping upstream's message first. */
START_TEST(test_no_controller)
{
	struct ctx c;
	ctx_open(&c, "node1", 300);
	char err[ERRLEN];
	long start = test_now_ms();
	ck_assert_int_eq(alloc_fail(&c, "default", "c0", err, sizeof(err)), -EAGAIN);
	static const char upstream[] = "aborting new block request: context deadline exceeded (";
	ck_assert_msg(strncmp(err, upstream, sizeof(upstream) - 1) == 0 &&
			  strstr(err, "try again later"),
		      "unexpected error: %s", err);
	ck_assert_int_ge(test_now_ms() - start, 290);
	ck_assert_int_lt(test_now_ms() - start, 2000);
	ctx_close(&c);
}
END_TEST

/* 2. The allocation sequence on two nodes. */
START_TEST(test_sequence)
{
	struct fake_controller *fc = fake_controller_start(false);
	struct ctx n1, n2;
	ctx_open(&n1, "node1", 0);
	ctx_open(&n2, "node2", 0);
	char err[ERRLEN];

	alloc_ok(&n1, "default", "c0", "eth0", "10.2.0.0", "fd02::200");
	owned_is(&n1, "10.2.0.0/31,fd02::200/127");
	alloc_ok(&n1, "default", "c1", "eth0", "10.2.0.1", "fd02::201");
	alloc_ok(&n1, "default", "c2", "eth0", "10.2.0.2", "fd02::202");
	alloc_ok(&n1, "default", "c3", "eth0", "10.2.0.3", "fd02::203");
	owned_is(&n1, "10.2.0.0/31,10.2.0.2/31,fd02::200/127,fd02::202/127");
	ck_assert_int_eq(alloc_fail(&n1, "default", "cxx", err, sizeof(err)), -ENOSPC);
	free_ok(&n1, "c2", "eth0");
	alloc_ok(&n1, "default", "c100", "eth0", "10.2.0.2", "fd02::202");

	ck_assert_int_eq(alloc_fail(&n2, "default", "d0", err, sizeof(err)), -ENOSPC);
	alloc_ok(&n2, "v4", "d1", "eth0", "10.4.0.0", "");
	owned_is(&n2, "10.4.0.0/30");
	alloc_ok(&n2, "v4", "d2", "eth0", "10.4.0.1", "");
	free_ok(&n2, "d1", "eth0");
	alloc_ok(&n2, "v4", "c101", "eth0", "10.4.0.2", "");

	ctx_close(&n2);
	ctx_close(&n1);
	fake_controller_stop(fc);
}
END_TEST

/* 3. A restarted node keeps the registered address's block; GC releases the others. */
START_TEST(test_restore_and_gc)
{
	struct fake_controller *fc = fake_controller_start(false);
	struct ctx c;
	ctx_open(&c, "node1", 0);
	alloc_ok(&c, "default", "c0", "eth0", "10.2.0.0", "fd02::200");
	alloc_ok(&c, "default", "c0", "eth1", "10.2.0.1", "fd02::201");
	alloc_ok(&c, "default", "c0", "eth2", "10.2.0.2", "fd02::202");
	alloc_ok(&c, "v4", "d0", "eth0", "10.4.0.0", "");
	ck_assert_uint_eq(fx_count_blocks(), 3);
	ctx_close(&c);

	ctx_open(&c, "node1", 0);
	char err[ERRLEN];
	ck_assert_int_eq(node_ipam_register(c.ipam, "default", "c0", "eth2", "10.2.0.2",
					    "fd02::202", err, sizeof(err)),
			 0);
	ck_assert_msg(node_ipam_gc(c.ipam, NULL, NULL, err, sizeof(err)) == 0, "gc: %s", err);
	owned_is(&c, "10.2.0.2/31,fd02::202/127");
	ck_assert_uint_eq(fx_count_blocks(), 1);
	ck_assert(fx_block_exists("default-1"));
	alloc_ok(&c, "default", "c0", "eth3", "10.2.0.3", "fd02::203");
	ctx_close(&c);
	fake_controller_stop(fc);
}
END_TEST

/* 4. A reserved block is never handed out: a new block is acquired next to it. */
START_TEST(test_reserved)
{
	fx_create_block("default-2", "default", "node1", 2, "10.2.0.4/31", "fd02::0204/127", true);
	struct fake_controller *fc = fake_controller_start(false);
	struct ctx c;
	ctx_open(&c, "node1", 0);
	alloc_ok(&c, "default", "c0", "eth0", "10.2.0.0", "fd02::200");
	ck_assert_uint_eq(fx_count_blocks(), 2);
	owned_is(&c, "10.2.0.0/31,10.2.0.4/31,fd02::200/127,fd02::204/127");
	char err[ERRLEN];
	ck_assert_int_eq(node_ipam_gc(c.ipam, NULL, NULL, err, sizeof(err)), 0);
	ck_assert(fx_block_exists("default-2")); /* full, hence never released */
	ctx_close(&c);
	fake_controller_stop(fc);
}
END_TEST

/* Exhausted pool: -ENOSPC with the controller's reason. */
START_TEST(test_exhausted)
{
	fx_create_block("v4-0", "v4", "node3", 2, "10.4.0.0/30", NULL, false);
	struct fake_controller *fc = fake_controller_start(false);
	struct ctx c;
	ctx_open(&c, "node1", 0);
	char err[ERRLEN];
	ck_assert_int_eq(alloc_fail(&c, "v4", "c0", err, sizeof(err)), -ENOSPC);
	ck_assert_msg(strncmp(err, "out of blocks", 13) == 0, "error: %s", err);
	ctx_close(&c);
	fake_controller_stop(fc);
}
END_TEST

/* Stale results (another request of the same node and pool answered first, and the answered
 * previous incarnation of req-<pool>-<node>) are ignored. */
START_TEST(test_stale_ignored)
{
	struct fake_controller *fc = fake_controller_start(true);
	struct ctx c;
	ctx_open(&c, "node1", 0);
	alloc_ok(&c, "default", "c0", "eth0", "10.2.0.0", "fd02::200");
	alloc_ok(&c, "default", "c1", "eth0", "10.2.0.1", "fd02::201");
	/* The answered req-default-node1 stays; the next acquisition replaces it. */
	json_t *old = NULL;
	char err[ERRLEN];
	ck_assert_int_eq(kube_get(fx_client, &COILAPI_RES_BLOCKREQUESTS, NULL, "req-default-node1",
				  &old, err, sizeof(err)),
			 0);
	alloc_ok(&c, "default", "c2", "eth0", "10.2.0.2", "fd02::202");
	json_t *now = NULL;
	ck_assert_int_eq(kube_get(fx_client, &COILAPI_RES_BLOCKREQUESTS, NULL, "req-default-node1",
				  &now, err, sizeof(err)),
			 0);
	ck_assert_str_ne(kube_obj_uid(old), kube_obj_uid(now));
	json_decref(old);
	json_decref(now);
	ctx_close(&c);
	fake_controller_stop(fc);
}
END_TEST

/* An answer written before the waiter even starts waiting is not lost. */
START_TEST(test_fast_answer)
{
	struct fake_controller *fc = fake_controller_start(false);
	struct ctx c;
	ctx_open(&c, "node2", 0);
	for (int i = 0; i < 3; i++) { /* acquire, release, acquire ... */
		long start = test_now_ms();
		alloc_ok(&c, "v4", "d0", "eth0", "10.4.0.0", "");
		ck_assert_int_lt(test_now_ms() - start, 900); /* the watch, not the 1 s poll */
		free_ok(&c, "d0", "eth0");
		ck_assert(!fx_block_exists("v4-0"));
	}
	ctx_close(&c);
	fake_controller_stop(fc);
}
END_TEST

/* The BlockRequest as coild creates it (name, Node owner reference, spec). */
START_TEST(test_request_shape)
{
	struct ctx c;
	ctx_open(&c, "node1", 200);
	char err[ERRLEN];
	alloc_fail(&c, "default", "c0", err, sizeof(err));
	json_t *req = NULL, *node = NULL;
	ck_assert_int_eq(kube_get(fx_client, &COILAPI_RES_BLOCKREQUESTS, NULL, "req-default-node1",
				  &req, err, sizeof(err)),
			 0);
	ck_assert_int_eq(
	    kube_get(fx_client, &KUBE_RES_NODES, NULL, "node1", &node, err, sizeof(err)), 0);
	ck_assert_str_eq(kube_json_string(req, "spec.nodeName"), "node1");
	ck_assert_str_eq(kube_json_string(req, "spec.poolName"), "default");
	json_t *refs = kube_json_path(req, "metadata.ownerReferences");
	ck_assert_uint_eq(json_array_size(refs), 1);
	json_t *ref = json_array_get(refs, 0);
	ck_assert_str_eq(json_string_value(json_object_get(ref, "apiVersion")), "v1");
	ck_assert_str_eq(json_string_value(json_object_get(ref, "kind")), "Node");
	ck_assert_str_eq(json_string_value(json_object_get(ref, "name")), "node1");
	ck_assert_str_eq(json_string_value(json_object_get(ref, "uid")), kube_obj_uid(node));
	ck_assert_ptr_null(json_object_get(ref, "controller"));
	ck_assert_ptr_null(json_object_get(ref, "blockOwnerDeletion"));
	json_decref(req);
	json_decref(node);
	ctx_close(&c);
}
END_TEST

static void setup(void)
{
	fx_start();
}

static void teardown(void)
{
	fx_stop();
}

Suite *ipam_suite(void);
Suite *ipam_suite(void)
{
	Suite *s = suite_create("ipam");
	TCase *tc = tcase_create("node-ipam");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_no_controller);
	tcase_add_test(tc, test_sequence);
	tcase_add_test(tc, test_restore_and_gc);
	tcase_add_test(tc, test_reserved);
	tcase_add_test(tc, test_exhausted);
	tcase_add_test(tc, test_stale_ignored);
	tcase_add_test(tc, test_fast_answer);
	tcase_add_test(tc, test_request_shape);
	suite_add_tcase(s, tc);
	return s;
}
