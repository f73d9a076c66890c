/* lib/doctor: the record parser and the checks, on hand-made views. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "doctor/internal.h"

/* ---- the record parser ---- */

static const struct {
	const char *text;
	int want;
} record_cases[] = {
    {"{\"container_id\":\"c1\",\"ifname\":\"eth0\",\"pool\":\"default\",\"block\":\"default-0\","
     "\"offset\":1,\"ipv4\":\"10.0.0.1\",\"ipv6\":\"\"}",
     0},
    {"{\"container_id\":\"c1\",\"ifname\":\"eth0\",\"block\":\"b\",\"ipv4\":\"\",\"ipv6\":\"\"}",
     0},				    /* pool is optional */
    {"{\"container_id\":\"c1\"}", -EINVAL}, /* fields missing */
    {"[]", -EINVAL},
    {"not json", -EINVAL},
    {"{\"container_id\":1,\"ifname\":\"eth0\",\"block\":\"b\",\"ipv4\":\"\",\"ipv6\":\"\"}",
     -EINVAL},
    {"{\"container_id\":\"c1\",\"ifname\":\"eth0-but-far-too-long\",\"block\":\"b\","
     "\"ipv4\":\"\",\"ipv6\":\"\"}",
     -EINVAL},
};

START_TEST(test_parse_record)
{
	struct node_ipam_record r;
	const char *text = record_cases[_i].text;
	ck_assert_int_eq(doctor_parse_record(text, strlen(text), &r), record_cases[_i].want);
	if (record_cases[_i].want == 0)
		ck_assert_str_eq(r.container_id, "c1");
}
END_TEST

/* ---- the checks ---- */

static const struct doctor_config cfg = {.node = "node1",
					 .state_dir = "/x",
					 .pod_table = 116,
					 .export_table = 119,
					 .rule_priority = 2000,
					 .protocol = 30};

static struct node_block blocks[1];
static struct node_ipam_record records[2];
static struct doctor_veth veths[2];
static struct nl_route pod_routes[2], exports[2];
static struct nl_rule rules[2];
static struct doctor_view view;

static struct nl_prefix prefix(const char *text)
{
	struct nl_prefix p;
	ck_assert_int_eq(nl_prefix_parse(text, &p), 0);
	return p;
}

/* One healthy pod c1/eth0 at 10.0.0.1 via veth index 5 in block 10.0.0.0/30. */
static void healthy(void)
{
	memset(&view, 0, sizeof(view));
	blocks[0] =
	    (struct node_block){.name = "default-0", .pool = "default", .ipv4 = "10.0.0.0/30"};
	records[0] = (struct node_ipam_record){.container_id = "c1",
					       .ifname = "eth0",
					       .pool = "default",
					       .block = "default-0",
					       .ipv4 = "10.0.0.1"};
	memset(&veths[0], 0, sizeof(veths[0]));
	veths[0].link.index = 5;
	strcpy(veths[0].link.name, "veth5");
	strcpy(veths[0].owner.container_id, "c1");
	strcpy(veths[0].owner.ifname, "eth0");
	veths[0].has_node_v4 = true;
	pod_routes[0] = (struct nl_route){.dst = prefix("10.0.0.1/32"), .oif = 5, .protocol = 30};
	exports[0] = (struct nl_route){.dst = prefix("10.0.0.0/30"), .protocol = 30};
	rules[0] = (struct nl_rule){
	    .family = AF_INET, .has_priority = true, .priority = 2000, .table = 116};
	rules[1] = (struct nl_rule){
	    .family = AF_INET6, .has_priority = true, .priority = 2000, .table = 116};
	view = (struct doctor_view){.cfg = &cfg,
				    .blocks_from = "state",
				    .blocks_origin = "test",
				    .blocks = blocks,
				    .n_blocks = 1,
				    .records = records,
				    .n_records = 1,
				    .veths = veths,
				    .n_veths = 1,
				    .pod_routes = pod_routes,
				    .n_pod_routes = 1,
				    .exports = exports,
				    .n_exports = 1,
				    .rules = rules,
				    .n_rules = 2};
}

static void no_route(void)
{
	view.n_pod_routes = 0;
}
static void no_v6_rule(void)
{
	view.n_rules = 1;
}
static void wrong_table(void)
{
	rules[0].table = 254;
}
static void no_export(void)
{
	view.n_exports = 0;
}
static void stray_export(void)
{
	exports[1] = (struct nl_route){.dst = prefix("10.9.0.0/30"), .protocol = 30};
	view.n_exports = 2;
}
static void no_veth(void)
{
	view.n_veths = 0;
}
static void no_record(void)
{
	view.n_records = 0;
}
static void no_node_address(void)
{
	veths[0].has_node_v4 = false;
}
static void outside_block(void)
{
	strcpy(records[0].ipv4, "10.0.0.9");
}
static void two_veths(void)
{
	veths[1] = veths[0];
	veths[1].link.index = 6;
	strcpy(veths[1].owner.container_id, "c2");
	records[1] = records[0];
	strcpy(records[1].container_id, "c2");
	strcpy(records[1].ipv4, "10.0.0.2");
	/* c2's veth routes c1's address too */
	pod_routes[1] = (struct nl_route){.dst = prefix("10.0.0.1/32"), .oif = 6, .protocol = 30};
	view.n_veths = view.n_records = view.n_pod_routes = 2;
}
static void two_records(void)
{
	records[1] = records[0];
	strcpy(records[1].container_id, "c2");
	view.n_records = 2;
}

static const struct {
	void (*inject)(void);
	const char *kind;
} defects[] = {
    {no_route, "pod-route-missing"},	      {no_v6_rule, "rule-missing"},
    {wrong_table, "rule-wrong-table"},	      {no_export, "export-missing"},
    {stray_export, "export-without-block"},   {no_veth, "record-without-veth"},
    {no_record, "veth-without-record"},	      {no_node_address, "node-address-missing"},
    {outside_block, "record-outside-blocks"}, {two_veths, "address-on-two-veths"},
    {two_records, "address-in-two-records"},
};

static bool found(const char *kind)
{
	for (size_t i = 0; i < view.n_problems; i++)
		if (!strcmp(view.problems[i].kind, kind))
			return true;
	return false;
}

START_TEST(test_healthy)
{
	healthy();
	doctor_check(&view);
	ck_assert_msg(view.n_problems == 0, "unexpected: %s",
		      view.n_problems ? view.problems[0].message : "");
	free(view.problems);
}
END_TEST

START_TEST(test_defect)
{
	healthy();
	defects[_i].inject();
	doctor_check(&view);
	ck_assert_msg(found(defects[_i].kind), "%s not named (%zu problems, first: %s)",
		      defects[_i].kind, view.n_problems,
		      view.n_problems ? view.problems[0].message : "");
	free(view.problems);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("doctor");
	TCase *tc = tcase_create("doctor");
	tcase_add_loop_test(tc, test_parse_record, 0,
			    sizeof(record_cases) / sizeof(record_cases[0]));
	tcase_add_test(tc, test_healthy);
	tcase_add_loop_test(tc, test_defect, 0, sizeof(defects) / sizeof(defects[0]));
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
