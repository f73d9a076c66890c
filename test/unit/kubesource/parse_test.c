/* Table-driven tests of the object readers (lib/kubesource/parse.c). */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "kubesource/parse.h"

static json_t *load(const char *text)
{
	json_error_t e;
	json_t *obj = json_loads(text, 0, &e);
	ck_assert_msg(obj != NULL, "bad test JSON: %s: %s", e.text, text);
	return obj;
}

struct result_case {
	const char *json;
	int ret;
	enum request_state state;
	const char *block, *reason;
	size_t n_conditions;
};

#define META	   "\"metadata\":{\"uid\":\"u1\"},\"spec\":{\"nodeName\":\"n1\",\"poolName\":\"p\"}"
#define C(t, s)	   "{\"type\":\"" t "\",\"status\":\"" s "\"}"
#define FAILED_OOB "{\"type\":\"Failed\",\"status\":\"True\",\"reason\":\"out of blocks\"}"

static const struct result_case result_cases[] = {
    {"{" META "}", 0, REQUEST_IN_PROGRESS, "", "", 0},
    {"{" META ",\"status\":{\"conditions\":[]}}", 0, REQUEST_IN_PROGRESS, "", "", 0},
    {"{" META
     ",\"status\":{\"addressBlockName\":\"p-0\",\"conditions\":[" C("Complete", "True") "]}}",
     0, REQUEST_COMPLETE, "p-0", "", 1},
    /* Failed=True wins even after Complete=True */
    {"{" META ",\"status\":{\"conditions\":[" C("Complete", "True") "," FAILED_OOB "]}}", 0,
     REQUEST_FAILED, "", "out of blocks", 2},
    /* Failed=False is ignored */
    {"{" META ",\"status\":{\"addressBlockName\":\"b\",\"conditions\":[" C("Failed", "False") "," C(
	 "Complete", "True") "]}}",
     0, REQUEST_COMPLETE, "b", "", 2},
    {"{" META ",\"status\":{\"conditions\":[" C("Complete", "False") "]}}", 0, REQUEST_IN_PROGRESS,
     "", "", 1},
    {"{" META ",\"status\":{\"conditions\":[" C("Complete", "Unknown") "]}}", 0,
     REQUEST_IN_PROGRESS, "", "", 1},
    /* what the CRD schema rejects is no BlockRequest */
    {"{" META ",\"status\":{\"conditions\":[1,null,{\"type\":5}]}}", -EINVAL, 0, "", "", 0},
    {"{" META ",\"status\":{\"conditions\":{}}}", -EINVAL, 0, "", "", 0},
    {"{" META ",\"status\":{\"conditions\":[{\"type\":\"Complete\"}]}}", -EINVAL, 0, "", "", 0},
    {"{\"metadata\":{\"uid\":\"u1\"},\"spec\":{\"nodeName\":\"n1\"}}", -EINVAL, 0, "", "", 0},
    {"{\"metadata\":{}}", -EINVAL, 0, "", "", 0},
    {"{\"metadata\":{\"uid\":7}}", -EINVAL, 0, "", "", 0},
    {"[]", -EINVAL, 0, "", "", 0},
};

START_TEST(test_request_result)
{
	const struct result_case *c = &result_cases[_i];
	json_t *obj = load(c->json);
	struct request_result r;
	ck_assert_int_eq(request_result_parse(obj, &r), c->ret);
	if (c->ret == 0) {
		ck_assert_int_eq(r.state, c->state);
		ck_assert_str_eq(r.reason, c->reason);
		ck_assert_uint_eq(r.n_conditions, c->n_conditions);
		ck_assert_str_eq(r.uid, "u1");
		ck_assert_str_eq(r.node, "n1");
		ck_assert_str_eq(r.pool, "p");
		if (c->state == REQUEST_COMPLETE)
			ck_assert_str_eq(r.block, c->block);
	}
	json_decref(obj);
}
END_TEST

struct block_case {
	const char *json;
	int ret;
	const char *name, *pool;
	unsigned index;
	const char *ipv4, *ipv6;
	bool reserved;
};

#define LBL(p) "\"labels\":{\"coil.cybozu.com/pool\":\"" p "\"}"

static const struct block_case block_cases[] = {
    {"{\"metadata\":{\"name\":\"default-4\"," LBL(
	 "default") "},\"index\":4,"
		    "\"ipv4\":\"10.3.0.0/31\",\"ipv6\":\"fd02::0300/127\"}",
     0, "default-4", "default", 4, "10.3.0.0/31", "fd02::300/127", false},
    /* host bits masked, v6 only, reserved */
    {"{\"metadata\":{\"name\":\"v6-1\",\"labels\":{\"coil.cybozu.com/pool\":\"v6\","
     "\"coil.cybozu.com/reserved\":\"true\"}},\"index\":1,\"ipv6\":\"FD02::0201/127\"}",
     0, "v6-1", "v6", 1, "", "fd02::200/127", true},
    {"{\"metadata\":{\"name\":\"x-2\",\"labels\":{\"coil.cybozu.com/reserved\":\"yes\"}},"
     "\"index\":2,\"ipv4\":\"10.0.0.8/30\"}",
     0, "x-2", "x", 2, "10.0.0.8/30", "", false},
    /* pool from the name when the label is missing */
    {"{\"metadata\":{\"name\":\"my-pool-12\"},\"index\":12,\"ipv4\":\"10.0.0.0/32\"}", 0,
     "my-pool-12", "my-pool", 12, "10.0.0.0/32", "", false},
    {"{\"metadata\":{\"name\":\"odd\"},\"index\":12,\"ipv4\":\"10.0.0.0/32\"}", -EINVAL, "", "", 0,
     "", "", false},
    {"{\"metadata\":{\"name\":\"a-1\"},\"index\":-1,\"ipv4\":\"10.0.0.0/32\"}", -EINVAL, "", "", 0,
     "", "", false},
    {"{\"metadata\":{\"name\":\"a-1\"},\"index\":\"1\",\"ipv4\":\"10.0.0.0/32\"}", -EINVAL, "", "",
     0, "", "", false},
    {"{\"metadata\":{\"name\":\"a-1\"},\"index\":4294967297,\"ipv4\":\"10.0.0.0/32\"}", -EINVAL, "",
     "", 0, "", "", false},
    {"{\"metadata\":{\"name\":\"a-1\"},\"index\":1}", -EINVAL, "", "", 0, "", "", false},
    {"{\"metadata\":{\"name\":\"a-1\"},\"index\":1,\"ipv4\":\"fd02::/127\"}", -EINVAL, "", "", 0,
     "", "", false},
    {"{\"metadata\":{\"name\":\"a-1\"},\"index\":1,\"ipv6\":\"10.0.0.0/31\"}", -EINVAL, "", "", 0,
     "", "", false},
    {"{\"metadata\":{\"name\":\"a-1\"},\"index\":1,\"ipv4\":\"10.0.0.0\"}", -EINVAL, "", "", 0, "",
     "", false},
    {"{\"metadata\":{\"name\":\"a-1\"},\"index\":1,\"ipv4\":7}", -EINVAL, "", "", 0, "", "", false},
    {"{\"metadata\":{},\"index\":1,\"ipv4\":\"10.0.0.0/31\"}", -EINVAL, "", "", 0, "", "", false},
    {"{\"index\":1}", -EINVAL, "", "", 0, "", "", false},
};

START_TEST(test_block)
{
	const struct block_case *c = &block_cases[_i];
	json_t *obj = load(c->json);
	struct node_block b;
	char err[256] = "";
	ck_assert_int_eq(block_parse(obj, &b, err, sizeof(err)), c->ret);
	if (c->ret == 0) {
		ck_assert_str_eq(b.name, c->name);
		ck_assert_str_eq(b.pool, c->pool);
		ck_assert_uint_eq(b.index, c->index);
		ck_assert_str_eq(b.ipv4, c->ipv4);
		ck_assert_str_eq(b.ipv6, c->ipv6);
		ck_assert(b.reserved == c->reserved);
	} else {
		ck_assert_msg(err[0], "no error message");
	}
	json_decref(obj);
}
END_TEST

struct node_case {
	const char *addresses;
	const char *ipv4, *ipv6;
};

#define IP(type, a) "{\"type\":\"" type "\",\"address\":\"" a "\"}"

static const struct node_case node_cases[] = {
    {"[" IP("InternalIP", "10.20.30.41") "," IP("InternalIP", "fd10::41") "]", "10.20.30.41",
     "fd10::41"},
    {"[" IP("InternalIP", "10.20.30.42") "]", "10.20.30.42", ""},
    {"[" IP("InternalIP", "fd10::43") "]", "", "fd10::43"},
    /* later overrides earlier; other types ignored; mapped counts as IPv4 */
    {"[" IP("InternalIP", "10.0.0.1") "," IP("ExternalIP", "1.2.3.4") "," IP(
	 "InternalIP", "::ffff:10.0.0.2") "," IP("Hostname", "fd00::9") "]",
     "10.0.0.2", ""},
    {"[" IP("InternalIP", "not-an-ip") ",{\"type\":\"InternalIP\"},3]", "", ""},
    {"{}", "", ""},
    {"null", "", ""},
};

START_TEST(test_node_ips)
{
	char text[1024];
	snprintf(text, sizeof(text), "{\"status\":{\"addresses\":%s}}", node_cases[_i].addresses);
	json_t *obj = load(text);
	char v4[IP_ADDR_STRLEN], v6[IP_ADDR_STRLEN];
	node_internal_ips(obj, v4, v6);
	ck_assert_str_eq(v4, node_cases[_i].ipv4);
	ck_assert_str_eq(v6, node_cases[_i].ipv6);
	json_decref(obj);
}
END_TEST

struct ns_case {
	const char *json, *pool;
};

static const struct ns_case ns_cases[] = {
    {"{\"metadata\":{\"name\":\"a\"}}", "default"},
    {"{\"metadata\":{\"annotations\":{\"coil.cybozu.com/pool\":\"global\"}}}", "global"},
    {"{\"metadata\":{\"annotations\":{\"coil.cybozu.com/pool\":\"\"}}}", ""},
    {"{\"metadata\":{\"annotations\":{\"other\":\"x\"}}}", "default"},
    {"{\"metadata\":{\"annotations\":{\"coil.cybozu.com/pool\":5}}}", "default"},
    {"{}", "default"},
};

START_TEST(test_namespace_pool)
{
	json_t *obj = load(ns_cases[_i].json);
	char pool[NODE_NAME_MAX];
	ck_assert_int_eq(namespace_pool(obj, pool, sizeof(pool)), 0);
	ck_assert_str_eq(pool, ns_cases[_i].pool);
	ck_assert_int_eq(namespace_pool(obj, pool, 2),
			 strlen(ns_cases[_i].pool) < 2 ? 0 : -ENAMETOOLONG);
	json_decref(obj);
}
END_TEST

START_TEST(test_pool_usable)
{
	json_t *live = load("{\"metadata\":{\"name\":\"p\"}}");
	json_t *dying = load("{\"metadata\":{\"deletionTimestamp\":\"2024-01-01T00:00:00Z\"}}");
	ck_assert(pool_usable(live));
	ck_assert(!pool_usable(dying));
	ck_assert(!pool_usable(NULL));
	json_decref(live);
	json_decref(dying);
}
END_TEST

#define N(a) (int)(sizeof(a) / sizeof((a)[0]))

Suite *parse_suite(void);
Suite *parse_suite(void)
{
	Suite *s = suite_create("parse");
	TCase *tc = tcase_create("objects");
	tcase_add_loop_test(tc, test_request_result, 0, N(result_cases));
	tcase_add_loop_test(tc, test_block, 0, N(block_cases));
	tcase_add_loop_test(tc, test_node_ips, 0, N(node_cases));
	tcase_add_loop_test(tc, test_namespace_pool, 0, N(ns_cases));
	tcase_add_test(tc, test_pool_usable);
	suite_add_tcase(s, tc);
	return s;
}
