/* Root tests of the coil router's kernel route syncer (upstream's syncer cases), each
 * in a fresh network namespace. The host kernel has no dummy links, so a veth pair with both
 * ends up in the same namespace plays the "dummy" link of upstream's test. */
#include <check.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "router/router.h"
#include "testns.h"

#define PROTO 31

static int orig_ns = -1, test_ns = -1;
static struct nl_sock s;
static char err[512];

static struct nl_prefix P(const char *text) {
	struct nl_prefix p;
	ck_assert_msg(nl_prefix_parse(text, &p) == 0, "bad prefix %s", text);
	return p;
}

static struct nl_ip
IP(const char *text) {
	struct nl_ip ip;
	ck_assert_msg(nl_ip_parse(text, &ip) == 0, "bad ip %s", text);
	return ip;
}

static struct router_route
R(const char *gateway, const char *dst) {
	return (struct router_route){.gateway = IP(gateway), .dst = P(dst)};
}

static void
add_addr(int ifindex, const char *cidr)
{
	struct nl_addr a = {.ifindex = ifindex, .local = P(cidr), .scope = RT_SCOPE_LINK};
	ck_assert_msg(nl_addr_add(&s, &a, err, sizeof(err)) == 0, "%s", err);
}

/* Fresh netns with link rt0 (peer rt1), both up, 10.9.0.1/24 and fd09::1/120, and an unrelated
 * route 10.10.10.10/32 via 127.0.0.1 proto 2. */
static void setup(void)
{
	ck_assert_msg(testns_is_root(), "these tests need root (netns, routes)");
	orig_ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	test_ns = testns_new();
	ck_assert_int_ge(test_ns, 0);
	ck_assert_int_eq(testns_enter(test_ns), 0);
	ck_assert_int_eq(nl_sock_open(&s, err, sizeof(err)), 0);
	struct nl_veth v = {"rt0", "rt1", -1, 0};
	struct nl_link l0, l1;
	ck_assert_msg(nl_veth_create(&s, &v, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(nl_link_get_by_name(&s, "rt0", &l0, err, sizeof(err)), 0);
	ck_assert_int_eq(nl_link_get_by_name(&s, "rt1", &l1, err, sizeof(err)), 0);
	ck_assert_int_eq(nl_link_set_up(&s, l0.index, true, err, sizeof(err)), 0);
	ck_assert_int_eq(nl_link_set_up(&s, l1.index, true, err, sizeof(err)), 0);
	add_addr(l0.index, "10.9.0.1/24");
	add_addr(l0.index, "fd09::1/120");
	struct nl_route unrelated = {
	    .dst = P("10.10.10.10/32"), .gateway = IP("127.0.0.1"), .protocol = 2};
	ck_assert_msg(nl_route_add(&s, &unrelated, err, sizeof(err)) == 0, "%s", err);
}

static void teardown(void)
{
	nl_sock_close(&s);
	if (orig_ns >= 0)
		testns_enter(orig_ns);
	close(test_ns);
	close(orig_ns);
	orig_ns = test_ns = -1;
}

/* The main-table routes of a protocol as sorted "gw dst" lines joined by ','. */
static void routes_of(unsigned char protocol, char *buf, size_t len)
{
	struct nl_route_filter f = {
	    .family = AF_UNSPEC, .table = RT_TABLE_MAIN, .protocol = protocol};
	struct nl_route *have = NULL;
	size_t n = 0;
	ck_assert_msg(nl_route_list(&s, &f, &have, &n, err, sizeof(err)) == 0, "%s", err);
	char(*lines)[128] = calloc(n + 1, sizeof(*lines));
	for (size_t i = 0; i < n; i++) {
		char gw[NL_IP_STRLEN], dst[NL_PREFIX_STRLEN];
		snprintf(lines[i], sizeof(lines[i]), "%s %s",
			 nl_ip_format(&have[i].gateway, gw, sizeof(gw)),
			 nl_prefix_format(&have[i].dst, dst, sizeof(dst)));
	}
	qsort(lines, n, sizeof(*lines), (int (*)(const void *, const void *))strcmp);
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? "," : "", lines[i]);
	free(lines);
	free(have);
}

static void sync_and_expect(const struct router_route *want, size_t n, const char *expect)
{
	char got[1024];
	ck_assert_msg(router_sync_routes(&s, PROTO, want, n, err, sizeof(err)) == 0, "%s", err);
	routes_of(PROTO, got, sizeof(got));
	ck_assert_str_eq(got, expect);
	/* Protocol 2 is also the kernel's own (connected routes); ours must still be there. */
	routes_of(2, got, sizeof(got));
	ck_assert_msg(strstr(got, "127.0.0.1 10.10.10.10/32") != NULL, "unrelated route gone: %s",
		      got);
}

START_TEST(test_spec_sequence)
{
	struct router_route step1[] = {
	    R("10.9.0.2", "192.168.1.0/24"), R("10.9.0.2", "192.168.2.0/24"),
	    R("fd09::2", "fd03::100/120"), R("fd09::2", "fd03::200/120")};
	sync_and_expect(step1, 4,
			"10.9.0.2 192.168.1.0/24,10.9.0.2 192.168.2.0/24,"
			"fd09::2 fd03::100/120,fd09::2 fd03::200/120");
	struct router_route step2[] = {R("10.9.0.2", "192.168.2.0/24"),
				       R("fd09::2", "fd03::100/120"),
				       R("fd09::2", "fd03::200/120")};
	sync_and_expect(step2, 3,
			"10.9.0.2 192.168.2.0/24,fd09::2 fd03::100/120,fd09::2 fd03::200/120");
	/* 192.168.1.0/24 comes back via another gateway; fd03::200/120 goes. */
	struct router_route step3[] = {R("10.9.0.2", "192.168.2.0/24"),
				       R("10.9.0.3", "192.168.1.0/24"),
				       R("fd09::2", "fd03::100/120")};
	sync_and_expect(step3, 3,
			"10.9.0.2 192.168.2.0/24,10.9.0.3 192.168.1.0/24,fd09::2 fd03::100/120");
	/* Idempotent; then empty. */
	sync_and_expect(step3, 3,
			"10.9.0.2 192.168.2.0/24,10.9.0.3 192.168.1.0/24,fd09::2 fd03::100/120");
	sync_and_expect(NULL, 0, "");
}
END_TEST

START_TEST(test_gateway_moves_within_ipv6)
{
	struct router_route a[] = {R("fd09::2", "fd03::100/120")};
	struct router_route b[] = {R("fd09::3", "fd03::100/120")};
	sync_and_expect(a, 1, "fd09::2 fd03::100/120");
	sync_and_expect(b, 1, "fd09::3 fd03::100/120");
}
END_TEST

START_TEST(test_other_protocols_and_tables_untouched)
{
	/* Same destination in another protocol of another table, our protocol in table 100. */
	struct nl_route foreign = {
	    .dst = P("192.168.5.0/24"), .gateway = IP("10.9.0.7"), .table = 100, .protocol = 2};
	struct nl_route ours_elsewhere = {
	    .dst = P("192.168.6.0/24"), .gateway = IP("10.9.0.8"), .table = 100, .protocol = PROTO};
	ck_assert_msg(nl_route_add(&s, &foreign, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(nl_route_add(&s, &ours_elsewhere, err, sizeof(err)) == 0, "%s", err);
	struct router_route want[] = {R("10.9.0.2", "192.168.5.0/24")};
	sync_and_expect(want, 1, "10.9.0.2 192.168.5.0/24");
	sync_and_expect(NULL, 0, "");
	struct nl_route_filter f = {.family = AF_INET, .table = 100};
	struct nl_route *have = NULL;
	size_t n = 0;
	ck_assert_int_eq(nl_route_list(&s, &f, &have, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 2);
	free(have);
}
END_TEST

START_TEST(test_host_bits_and_duplicates)
{
	struct router_route want[] = {R("10.9.0.2", "192.168.1.7/24"),
				      R("10.9.0.2", "192.168.1.0/24"),
				      R("fd09::2", "fd03::1:5/112")};
	sync_and_expect(want, 3, "10.9.0.2 192.168.1.0/24,fd09::2 fd03::1:0/112");
}
END_TEST

START_TEST(test_unreachable_gateway_fails)
{
	struct router_route want[] = {R("10.9.0.2", "192.168.1.0/24"),
				      R("10.99.0.4", "10.30.4.0/24")};
	int rc = router_sync_routes(&s, PROTO, want, 2, err, sizeof(err));
	ck_assert_int_lt(rc, 0);
	ck_assert_msg(strstr(err, "10.30.4.0/24") != NULL, "error names the route: %s", err);
}
END_TEST

START_TEST(test_kernel_sync_fn)
{
	struct router_kernel_syncer k = {.protocol = PROTO};
	struct router_route want[] = {R("10.9.0.2", "192.168.9.0/24")};
	ck_assert_msg(router_kernel_sync(&k, want, 1, err, sizeof(err)) == 0, "%s", err);
	char got[256];
	routes_of(PROTO, got, sizeof(got));
	ck_assert_str_eq(got, "10.9.0.2 192.168.9.0/24");
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("router route syncer (root)");
	TCase *tc = tcase_create("netns");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_spec_sequence);
	tcase_add_test(tc, test_gateway_moves_within_ipv6);
	tcase_add_test(tc, test_other_protocols_and_tables_untouched);
	tcase_add_test(tc, test_host_bits_and_duplicates);
	tcase_add_test(tc, test_unreachable_gateway_fails);
	tcase_add_test(tc, test_kernel_sync_fn);
	suite_add_tcase(suite, tc);
	SRunner *sr = srunner_create(suite);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
