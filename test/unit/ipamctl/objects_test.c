/* Pure object helpers: the AddressBlock with the carving examples, BlockRequest statuses and
 * predicates (AddressPool decoding is tested in test/unit/coilapi). */
#include "ipamctl/ipamctl.h"
#include "ipamctl/objects.h"
#include "suites.h"

#include <string.h>

static json_t *parse(const char *text)
{
	json_error_t jerr;
	json_t *obj = json_loads(text, 0, &jerr);
	ck_assert_msg(obj != NULL, "%s: %s", text, jerr.text);
	return obj;
}

static void expect_text(const char *got, const char *want)
{
	if (want)
		ck_assert_str_eq(got, want);
	else
		ck_assert_ptr_null(got);
}

/* The decoding rules live in lib/coilapi (its unit test has the table); here only that the
 * controller's messages name the pool. */
START_TEST(pool_decode_names_pool)
{
	char err[256] = "";
	json_t *obj = parse("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"blockSizeBits\":-1,"
			    "\"subnets\":[{\"ipv4\":\"10.0.0.0/24\"}]}}");
	struct coilapi_pool spec;
	ck_assert_int_eq(ipamctl_pool_decode(obj, &spec, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "AddressPool p: spec.blockSizeBits: Invalid value: -1: must be "
			      "greater than or equal to 0");
	json_decref(obj);
}
END_TEST

static const char *default_pool =
    "{\"metadata\":{\"name\":\"default\",\"uid\":\"pool-uid\"},\"spec\":{\"blockSizeBits\":1,"
    "\"subnets\":[{\"ipv4\":\"10.2.0.0/29\",\"ipv6\":\"fd02::0200/125\"},"
    "{\"ipv4\":\"10.3.0.0/30\",\"ipv6\":\"fd02::0300/126\"}]}}";

/* Carve index n of a pool and build its block. */
static json_t *carve(const char *pool_text, uint32_t index, int *ret)
{
	char err[256];
	json_t *pool = parse(pool_text);
	struct coilapi_pool spec;
	struct ipam_block_cidrs cidrs;
	ck_assert_int_eq(ipamctl_pool_decode(pool, &spec, err, sizeof(err)), 0);
	struct ipam_pool carving = coilapi_pool_ipam(&spec);
	*ret = ipam_pool_get_block(&carving, index, &cidrs, err, sizeof(err));
	json_t *block = *ret ? NULL : ipamctl_block_build(pool, index, &cidrs, "node2", "req-uid");
	coilapi_pool_clear(&spec);
	json_decref(pool);
	return block;
}

START_TEST(block_matches_spec)
{
	int ret;
	json_t *block = carve(default_pool, 4, &ret);
	json_t *want =
	    parse("{\"apiVersion\":\"coil.cybozu.com/v2\",\"kind\":\"AddressBlock\",\"metadata\":{"
		  "\"name\":\"default-4\",\"labels\":{\"coil.cybozu.com/pool\":\"default\","
		  "\"coil.cybozu.com/node\":\"node2\",\"coil.cybozu.com/request\":\"req-uid\"},"
		  "\"finalizers\":[\"coil.cybozu.com\"],\"ownerReferences\":[{\"apiVersion\":"
		  "\"coil.cybozu.com/v2\",\"kind\":\"AddressPool\",\"name\":\"default\",\"uid\":"
		  "\"pool-uid\",\"controller\":true,\"blockOwnerDeletion\":true}]},\"index\":4,"
		  "\"ipv4\":\"10.3.0.0/31\",\"ipv6\":\"fd02::300/127\"}");
	ck_assert_int_eq(ret, 0);
	char *got = json_dumps(block, JSON_SORT_KEYS);
	ck_assert_msg(json_equal(block, want), "got %s", got);
	free(got);
	ck_assert_str_eq(ipamctl_controller_pool(block), "default");
	ck_assert_int_eq(ipamctl_block_index(block), 4);
	json_decref(want);
	json_decref(block);
}
END_TEST

static const struct {
	const char *pool;
	uint32_t index;
	int ret;
	const char *ipv4, *ipv6;
} carve_cases[] = {
    {NULL, 0, 0, "10.2.0.0/31", "fd02::200/127"},
    {NULL, 3, 0, "10.2.0.6/31", "fd02::206/127"},
    {NULL, 5, 0, "10.3.0.2/31", "fd02::302/127"},
    {NULL, 6, -ENOSPC, NULL, NULL},
    {"{\"metadata\":{\"name\":\"p\",\"uid\":\"u\"},\"spec\":{\"blockSizeBits\":5,\"subnets\":["
     "{\"ipv4\":\"10.2.0.0/16\",\"ipv6\":\"fd01:0203:0405:0607::/112\"}]}}",
     16, 0, "10.2.2.0/27", "fd01:203:405:607::200/123"},
    {"{\"metadata\":{\"name\":\"v4\",\"uid\":\"u\"},\"spec\":{\"blockSizeBits\":2,\"subnets\":["
     "{\"ipv4\":\"10.4.0.0/29\"}]}}",
     1, 0, "10.4.0.4/30", NULL},
    {"{\"metadata\":{\"name\":\"v4\",\"uid\":\"u\"},\"spec\":{\"blockSizeBits\":2,\"subnets\":["
     "{\"ipv4\":\"10.4.0.0/29\"}]}}",
     2, -ENOSPC, NULL, NULL},
};

START_TEST(carve_table)
{
	int ret;
	json_t *block = carve(carve_cases[_i].pool ? carve_cases[_i].pool : default_pool,
			      carve_cases[_i].index, &ret);
	ck_assert_int_eq(ret, carve_cases[_i].ret);
	if (ret == 0) {
		expect_text(json_string_value(json_object_get(block, "ipv4")),
			    carve_cases[_i].ipv4);
		expect_text(json_string_value(json_object_get(block, "ipv6")),
			    carve_cases[_i].ipv6);
	}
	json_decref(block);
}
END_TEST

START_TEST(block_needs_pool_identity)
{
	struct ipam_block_cidrs cidrs = {"10.0.0.0/32", ""};
	json_t *pool = parse("{\"metadata\":{\"name\":\"p\"}}");
	ck_assert_ptr_null(ipamctl_block_build(pool, 0, &cidrs, "n", "u"));
	json_decref(pool);
	pool = parse("{\"metadata\":{\"name\":\"p\",\"uid\":\"x\"}}");
	json_t *block = ipamctl_block_build(pool, 7, &cidrs, "n", "u");
	ck_assert_str_eq(kube_obj_name(block), "p-7");
	ck_assert_ptr_null(json_object_get(block, "ipv6"));
	json_decref(block);
	json_decref(pool);
}
END_TEST

START_TEST(statuses)
{
	struct timespec now = {1784163723, 999999999}; /* 2026-07-16T01:02:03Z */
	json_t *ok = ipamctl_status_allocated("default-0", &now);
	json_t *want =
	    parse("{\"addressBlockName\":\"default-0\",\"conditions\":[{\"type\":\"Complete\","
		  "\"status\":\"True\",\"reason\":\"allocated\",\"message\":\"allocated a block "
		  "default-0\",\"lastProbeTime\":\"2026-07-16T01:02:03Z\",\"lastTransitionTime\":"
		  "\"2026-07-16T01:02:03Z\"}]}");
	ck_assert(json_equal(ok, want));
	json_decref(want);
	json_decref(ok);

	json_t *failed = ipamctl_status_out_of_blocks("default", &now);
	want = parse("{\"conditions\":[{\"type\":\"Complete\",\"status\":\"True\",\"reason\":"
		     "\"completed with failure\",\"message\":\"completed with failure\","
		     "\"lastProbeTime\":\"2026-07-16T01:02:03Z\",\"lastTransitionTime\":"
		     "\"2026-07-16T01:02:03Z\"},{\"type\":\"Failed\",\"status\":\"True\","
		     "\"reason\":\"out of blocks\",\"message\":\"pool default does not have free "
		     "blocks\",\"lastProbeTime\":\"2026-07-16T01:02:03Z\",\"lastTransitionTime\":"
		     "\"2026-07-16T01:02:03Z\"}]}");
	ck_assert(json_equal(failed, want));
	json_decref(want);
	json_decref(failed);
}
END_TEST

static const struct {
	const char *json;
	size_t conditions;
	const char *pool;
	int64_t index;
	bool deleting;
} predicate_cases[] = {
    {"{}", 0, NULL, -1, false},
    {"{\"status\":{\"conditions\":[]}}", 0, NULL, -1, false},
    {"{\"status\":{\"conditions\":[{},{}]},\"metadata\":{\"deletionTimestamp\":null}}", 2, NULL, -1,
     false},
    {"{\"status\":{\"conditions\":{}},\"metadata\":{\"deletionTimestamp\":\"x\"}}", 0, NULL, -1,
     true},
    {"{\"index\":2147483647,\"metadata\":{\"ownerReferences\":[{\"kind\":\"Node\",\"name\":"
     "\"n\",\"controller\":true,\"apiVersion\":\"v1\"},{\"kind\":\"AddressPool\",\"name\":"
     "\"p\",\"controller\":true,\"apiVersion\":\"coil.cybozu.com/v2\"}]}}",
     0, "p", 2147483647, false},
    {"{\"index\":2147483648,\"metadata\":{\"ownerReferences\":[{\"kind\":\"AddressPool\","
     "\"name\":\"p\",\"apiVersion\":\"coil.cybozu.com/v2\"}]}}",
     0, NULL, -1, false},
    {"{\"index\":-1,\"metadata\":{\"ownerReferences\":[{\"kind\":\"AddressPool\","
     "\"name\":\"p\",\"controller\":true,\"apiVersion\":\"example.com/v1\"}]}}",
     0, NULL, -1, false},
    {"{\"index\":\"3\",\"metadata\":{\"ownerReferences\":{}}}", 0, NULL, -1, false},
};

START_TEST(predicate_table)
{
	json_t *obj = parse(predicate_cases[_i].json);
	ck_assert_uint_eq(ipamctl_condition_count(obj), predicate_cases[_i].conditions);
	expect_text(ipamctl_controller_pool(obj), predicate_cases[_i].pool);
	ck_assert_int_eq(ipamctl_block_index(obj), predicate_cases[_i].index);
	ck_assert(ipamctl_being_deleted(obj) == predicate_cases[_i].deleting);
	json_decref(obj);
}
END_TEST

START_TEST(finalizers)
{
	json_t *obj = parse("{\"metadata\":{\"finalizers\":[\"coil.cybozu.com\",\"a\","
			    "\"coil.cybozu.com\",1]}}");
	ck_assert(ipamctl_has_finalizer(obj, "coil.cybozu.com"));
	ck_assert(ipamctl_remove_finalizer(obj, "coil.cybozu.com"));
	ck_assert(!ipamctl_has_finalizer(obj, "coil.cybozu.com"));
	ck_assert(ipamctl_has_finalizer(obj, "a"));
	ck_assert_uint_eq(json_array_size(kube_json_path(obj, "metadata.finalizers")), 2);
	ck_assert(!ipamctl_remove_finalizer(obj, "coil.cybozu.com"));
	json_decref(obj);
	obj = parse("{}");
	ck_assert(!ipamctl_has_finalizer(obj, "coil.cybozu.com"));
	ck_assert(!ipamctl_remove_finalizer(obj, "coil.cybozu.com"));
	json_decref(obj);
}
END_TEST

TCase *objects_tcase(void)
{
	TCase *tc = tcase_create("objects");
	tcase_add_test(tc, pool_decode_names_pool);
	tcase_add_test(tc, block_matches_spec);
	tcase_add_loop_test(tc, carve_table, 0, sizeof(carve_cases) / sizeof(carve_cases[0]));
	tcase_add_test(tc, block_needs_pool_identity);
	tcase_add_test(tc, statuses);
	tcase_add_loop_test(tc, predicate_table, 0,
			    sizeof(predicate_cases) / sizeof(predicate_cases[0]));
	tcase_add_test(tc, finalizers);
	return tc;
}
