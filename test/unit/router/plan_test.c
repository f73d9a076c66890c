/* Table-driven tests of the pure parts of lib/router: node InternalIPs and the route plan. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "router/router.h"

static json_t *parse(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, 0, &jerr);
	ck_assert_msg(v != NULL, "bad test JSON: %s: %s", jerr.text, text);
	return v;
}

static const char *ip_text(const struct nl_ip *ip, char *buf)
{
	return nl_ip_format(ip, buf, NL_IP_STRLEN);
}

static const struct {
	const char *node, *v4, *v6;
} node_ip_cases[] = {
    {"{\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"10.0.0.1\"},"
     "{\"type\":\"InternalIP\",\"address\":\"fd00::1\"}]}}",
     "10.0.0.1", "fd00::1"},
    {"{\"status\":{\"addresses\":[{\"type\":\"ExternalIP\",\"address\":\"1.2.3.4\"},"
     "{\"type\":\"Hostname\",\"address\":\"node1\"}]}}",
     "", ""},
    /* later entries override earlier ones */
    {"{\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"10.0.0.1\"},"
     "{\"type\":\"InternalIP\",\"address\":\"10.0.0.2\"}]}}",
     "10.0.0.2", ""},
    /* an IPv4-mapped IPv6 address is IPv4 */
    {"{\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"::ffff:10.1.2.3\"}]}}",
     "10.1.2.3", ""},
    {"{\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"not-an-ip\"},"
     "{\"type\":\"InternalIP\"},{\"address\":\"10.9.9.9\"},\"junk\",7]}}",
     "", ""},
    {"{\"status\":{\"addresses\":{\"type\":\"InternalIP\"}}}", "", ""},
    {"{}", "", ""},
    {"[]", "", ""},
};

START_TEST(test_node_ips)
{
	json_t *node = parse(node_ip_cases[_i].node);
	struct nl_ip v4, v6;
	char a[NL_IP_STRLEN], b[NL_IP_STRLEN];
	router_node_ips(node, &v4, &v6);
	ck_assert_str_eq(ip_text(&v4, a), node_ip_cases[_i].v4);
	ck_assert_str_eq(ip_text(&v6, b), node_ip_cases[_i].v6);
	ck_assert(v4.family == 0 || v4.family == AF_INET);
	ck_assert(v6.family == 0 || v6.family == AF_INET6);
	json_decref(node);
}
END_TEST

/* A compact Node: name and InternalIPs. */
static json_t *node(const char *name, const char *v4, const char *v6)
{
	json_t *addrs = json_array();
	if (v4)
		json_array_append_new(addrs,
				      json_pack("{s:s,s:s}", "type", "InternalIP", "address", v4));
	if (v6)
		json_array_append_new(addrs,
				      json_pack("{s:s,s:s}", "type", "InternalIP", "address", v6));
	return json_pack("{s:{s:s},s:{s:o}}", "metadata", "name", name, "status", "addresses",
			 addrs);
}

static json_t *block(const char *name, const char *node_name, const char *v4, const char *v6)
{
	json_t *b = json_pack("{s:{s:s,s:{}},s:i}", "metadata", "name", name, "labels", "index", 0);
	if (node_name)
		json_object_set_new(kube_json_path(b, "metadata.labels"), "coil.cybozu.com/node",
				    json_string(node_name));
	if (v4)
		json_object_set_new(b, "ipv4", json_string(v4));
	if (v6)
		json_object_set_new(b, "ipv6", json_string(v6));
	return b;
}

/* The nodes and blocks of upstream's router test (node1 is self). */
static void spec_fixture(json_t **nodes, json_t **blocks)
{
	*nodes = json_array();
	json_array_append_new(*nodes, node("node1", "10.20.30.41", "fd10::41"));
	json_array_append_new(*nodes, node("node4", NULL, "fd10::44"));
	json_array_append_new(*nodes, node("node5", "10.20.30.45", NULL));
	json_array_append_new(*nodes, node("node6", "10.20.30.46", "fd10::46"));
	*blocks = json_array();
	json_array_append_new(*blocks, block("block-0", "node1", "10.30.1.0/24", "fd02::100/120"));
	json_array_append_new(*blocks, block("block-1", "node2", "10.30.2.0/24", "fd02::200/120"));
	json_array_append_new(*blocks, block("block-2", "node4", "10.30.4.0/24", "fd02::400/120"));
	json_array_append_new(*blocks, block("block-3", "node5", "10.30.5.0/24", "fd02::500/120"));
	json_array_append_new(*blocks, block("block-4", "node6", "10.30.6.0/24", "fd02::600/120"));
}

/* "gw dst,gw dst,..." in plan order. */
static void plan_text(const struct router_plan *plan, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < plan->n && o < len; i++) {
		char gw[NL_IP_STRLEN], dst[NL_PREFIX_STRLEN];
		o += (size_t)snprintf(buf + o, len - o, "%s%s %s", i ? "," : "",
				      nl_ip_format(&plan->routes[i].gateway, gw, sizeof(gw)),
				      nl_prefix_format(&plan->routes[i].dst, dst, sizeof(dst)));
	}
}

static void check_plan(json_t *nodes, json_t *blocks, const char *self, const char *want)
{
	struct router_plan plan;
	char err[256], text[2048];
	ck_assert_int_eq(router_plan_build(nodes, blocks, self, &plan, err, sizeof(err)), 0);
	plan_text(&plan, text, sizeof(text));
	ck_assert_str_eq(text, want);
	router_plan_free(&plan);
}

START_TEST(test_plan_spec_fixture)
{
	json_t *nodes, *blocks;
	spec_fixture(&nodes, &blocks);
	check_plan(nodes, blocks, "node1",
		   "10.20.30.45 10.30.5.0/24,10.20.30.46 10.30.6.0/24,"
		   "fd10::44 fd02::400/120,fd10::46 fd02::600/120");
	/* More blocks of node6 join its gateways in block-name order. */
	json_array_append_new(blocks, block("block-6", "node6", NULL, "fd02::800/120"));
	json_array_append_new(blocks, block("block-5", "node6", "10.30.7.0/24", NULL));
	check_plan(nodes, blocks, "node1",
		   "10.20.30.45 10.30.5.0/24,10.20.30.46 10.30.6.0/24,10.20.30.46 10.30.7.0/24,"
		   "fd10::44 fd02::400/120,fd10::46 fd02::600/120,fd10::46 fd02::800/120");
	/* Seen from node6, node1's routes appear and node6's own are gone. */
	check_plan(nodes, blocks, "node6",
		   "10.20.30.41 10.30.1.0/24,10.20.30.45 10.30.5.0/24,"
		   "fd10::41 fd02::100/120,fd10::44 fd02::400/120");
	json_decref(nodes);
	json_decref(blocks);
}
END_TEST

static const struct {
	const char *name;
	const char *block_json; /* blocks of node "peer" (10.0.0.2, fd00::2); self is "me" */
	const char *want;
} plan_cases[] = {
    {"host bits cleared",
     "[{\"metadata\":{\"name\":\"b\",\"labels\":{\"coil.cybozu.com/node\":"
     "\"peer\"}},\"index\":0,\"ipv4\":\"10.1.0.5/24\",\"ipv6\":\"fd01::1:5/112\"}]",
     "10.0.0.2 10.1.0.0/24,fd00::2 fd01::1:0/112"},
    {"block name order is string order",
     "[{\"metadata\":{\"name\":\"p-9\",\"labels\":{\"coil.cybozu.com/node\":\"peer\"}},"
     "\"index\":0,\"ipv4\":\"10.1.9.0/"
     "24\"},{\"metadata\":{\"name\":\"p-10\",\"labels\":{\"coil.cybozu.com/"
     "node\":\"peer\"}},\"index\":0,\"ipv4\":\"10.1.10.0/24\"}]",
     "10.0.0.2 10.1.10.0/24,10.0.0.2 10.1.9.0/24"},
    {"unlabelled, self and unknown node skipped",
     "[{\"metadata\":{\"name\":\"a\"},\"index\":0,\"ipv4\":\"10.1.0.0/24\"},"
     "{\"metadata\":{\"name\":\"b\",\"labels\":{\"coil.cybozu.com/node\":\"me\"}},"
     "\"index\":0,\"ipv4\":\"10.2.0.0/24\"},"
     "{\"metadata\":{\"name\":\"c\",\"labels\":{\"coil.cybozu.com/node\":\"gone\"}},"
     "\"index\":0,\"ipv4\":\"10.3.0.0/24\"}]",
     ""},
    {"invalid addresses skipped, the other family kept; a non-string ipv6 drops the block",
     "[{\"metadata\":{\"name\":\"b\",\"labels\":{\"coil.cybozu.com/node\":\"peer\"}},"
     "\"index\":0,\"ipv4\":\"fd01::/120\",\"ipv6\":\"fd02::/120\"},"
     "{\"metadata\":{\"name\":\"c\",\"labels\":{\"coil.cybozu.com/node\":\"peer\"}},"
     "\"index\":0,\"ipv4\":\"10.1.0.0/33\",\"ipv6\":7},"
     "{\"metadata\":{\"name\":\"d\",\"labels\":{\"coil.cybozu.com/node\":\"peer\"}},"
     "\"index\":0,\"ipv4\":\"garbage\"}]",
     "fd00::2 fd02::/120"},
    {"a block without a name still routes",
     "[{\"metadata\":{\"labels\":{\"coil.cybozu.com/"
     "node\":\"peer\"}},\"index\":0,\"ipv4\":\"10.1.0.0/24\"}]",
     "10.0.0.2 10.1.0.0/24"},
    {"non-object entries ignored", "[1,\"x\",null,[]]", ""},
    {"a block without an index is no AddressBlock",
     "[{\"metadata\":{\"name\":\"b\",\"labels\":{\"coil.cybozu.com/node\":\"peer\"}},"
     "\"ipv4\":\"10.1.0.0/24\"}]",
     ""},
};

START_TEST(test_plan_cases)
{
	json_t *nodes = json_array();
	json_array_append_new(nodes, node("me", "10.0.0.1", "fd00::1"));
	json_array_append_new(nodes, node("peer", "10.0.0.2", "fd00::2"));
	json_array_append_new(nodes, json_string("not a node"));
	json_t *blocks = parse(plan_cases[_i].block_json);
	struct router_plan plan;
	char err[256], text[2048];
	ck_assert_int_eq(router_plan_build(nodes, blocks, "me", &plan, err, sizeof(err)), 0);
	plan_text(&plan, text, sizeof(text));
	ck_assert_msg(strcmp(text, plan_cases[_i].want) == 0, "%s: got \"%s\", want \"%s\"",
		      plan_cases[_i].name, text, plan_cases[_i].want);
	router_plan_free(&plan);
	json_decref(nodes);
	json_decref(blocks);
}
END_TEST

START_TEST(test_plan_rejects_non_arrays)
{
	json_t *obj = json_object(), *arr = json_array();
	struct router_plan plan;
	char err[256];
	ck_assert_int_eq(router_plan_build(obj, arr, "me", &plan, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(router_plan_build(arr, NULL, "me", &plan, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_null(plan.routes);
	ck_assert(strstr(err, "arrays") != NULL);
	router_plan_free(&plan); /* harmless on an empty plan */
	json_decref(obj);
	json_decref(arr);
}
END_TEST

static Suite *plan_suite(void)
{
	Suite *s = suite_create("router plan");
	TCase *tc = tcase_create("pure");
	tcase_add_loop_test(tc, test_node_ips, 0, sizeof(node_ip_cases) / sizeof(node_ip_cases[0]));
	tcase_add_test(tc, test_plan_spec_fixture);
	tcase_add_loop_test(tc, test_plan_cases, 0, sizeof(plan_cases) / sizeof(plan_cases[0]));
	tcase_add_test(tc, test_plan_rejects_non_arrays);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(plan_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
