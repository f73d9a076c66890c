/* lib/natrules: the plans of both backends (unit), and the rules applied for real in fresh
 * network namespaces (root): iptables checked with -C, nf_tables read back through netlink. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../nl/testns.h"
#include "natrules/natrules.h"
#include "natrules/natrules_internal.h"

static struct natrules_masq masq(const char *self, const char *oif)
{
	struct natrules_masq m = {0};
	ck_assert_int_eq(nl_ip_parse(self, &m.self), 0);
	snprintf(m.oif, sizeof(m.oif), "%s", oif);
	return m;
}

static void join_argv(const struct natrules_iptables_rule *r, const char *op, char *out, size_t len)
{
	const char *argv[NATRULES_ARGV_MAX + 8];
	size_t n = natrules_iptables_argv(r, op, argv);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (i)
			strncat(out, " ", len - strlen(out) - 1);
		strncat(out, argv[i], len - strlen(out) - 1);
	}
	ck_assert_ptr_null(argv[n]);
}

START_TEST(backend_names)
{
	enum natrules_backend b;
	char err[128];
	ck_assert_int_eq(natrules_backend_parse("iptables", &b, err, sizeof(err)), 0);
	ck_assert_int_eq(b, NATRULES_IPTABLES);
	ck_assert_int_eq(natrules_backend_parse("nftables", &b, err, sizeof(err)), 0);
	ck_assert_int_eq(b, NATRULES_NFTABLES);
	ck_assert_str_eq(natrules_backend_name(b), "nftables");
	ck_assert_int_eq(natrules_backend_parse("ipvs", &b, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "invalid backend: ipvs (must be either iptables or nftables)");
	ck_assert_int_eq(natrules_backend_parse(NULL, &b, err, sizeof(err)), -EINVAL);
}
END_TEST

START_TEST(iptables_masq_plan)
{
	struct natrules_iptables_rule r[2];
	char line[512];
	struct natrules_masq m = masq("10.1.1.1", "eth0");
	ck_assert_int_eq(natrules_iptables_masq_plan(&m, r, NULL, 0), 0);
	join_argv(&r[0], "-A", line, sizeof(line));
	ck_assert_str_eq(
	    line, "iptables -w -t nat -A POSTROUTING ! -s 10.1.1.1/32 -o eth0 -j MASQUERADE");
	join_argv(&r[1], "-C", line, sizeof(line));
	ck_assert_str_eq(
	    line, "iptables -w -t filter -C FORWARD -o eth0 -m state --state INVALID -j DROP");
	m = masq("fd01::101", "eth0");
	ck_assert_int_eq(natrules_iptables_masq_plan(&m, r, NULL, 0), 0);
	join_argv(&r[0], "-A", line, sizeof(line));
	ck_assert_str_eq(
	    line, "ip6tables -w -t nat -A POSTROUTING ! -s fd01::101/128 -o eth0 -j MASQUERADE");
	m = masq("10.1.1.1", "bad name");
	ck_assert_int_eq(natrules_iptables_masq_plan(&m, r, NULL, 0), -EINVAL);
}
END_TEST

START_TEST(iptables_connmark_plan)
{
	struct natrules_iptables_rule r[2];
	char line[512];
	struct natrules_connmark c = {.family = AF_INET, .ifname = "eth0", .mark = 7};
	ck_assert_int_eq(natrules_iptables_connmark_plan(&c, r, NULL, 0), 0);
	join_argv(&r[0], "-A", line, sizeof(line));
	ck_assert_str_eq(line, "iptables -w -t mangle -A INPUT -i eth0 -m conntrack --ctstate "
			       "NEW,ESTABLISHED,RELATED -j CONNMARK --set-mark 7");
	join_argv(&r[1], "-D", line, sizeof(line));
	ck_assert_str_eq(line, "iptables -w -t mangle -D OUTPUT -m connmark --mark 7 -j CONNMARK "
			       "--restore-mark");
	c.family = AF_INET6;
	ck_assert_int_eq(natrules_iptables_connmark_plan(&c, r, NULL, 0), 0);
	ck_assert_str_eq(r[0].program, "ip6tables");
	c.family = 0;
	ck_assert_int_eq(natrules_iptables_connmark_plan(&c, r, NULL, 0), -EINVAL);
}
END_TEST

/* The rule's expressions as libnftnl prints them, one "[ ... ]" per expression. */
static void rule_text(struct nftnl_rule *r, char *buf, size_t len)
{
	nftnl_rule_snprintf(buf, len, r, NFTNL_OUTPUT_DEFAULT, 0);
}

static void assert_contains_in_order(const char *text, const char *const *parts)
{
	const char *at = text;
	for (size_t i = 0; parts[i]; i++) {
		const char *p = strstr(at, parts[i]);
		ck_assert_msg(p, "missing \"%s\" (in order) in: %s", parts[i], text);
		at = p + strlen(parts[i]);
	}
}

START_TEST(nft_masq_plan)
{
	struct nftnl_rule *r[2];
	char text[2048];
	struct natrules_masq m = masq("10.1.1.1", "eth0");
	ck_assert_int_eq(natrules_nft_masq_rules(&m, r), 0);
	rule_text(r[0], text, sizeof(text));
	static const char *const masq4[] = {
	    "ip nat POSTROUTING",
	    "[ payload load 4b @ network header + 12 => reg 1 ]",
	    "[ bitwise reg 1 = ( reg 1 & 0xffffffff ) ^ 0x00000000 ]",
	    "[ cmp neq reg 1 0x0101010a ]",
	    "[ meta load oifname => reg 1 ]",
	    "[ cmp eq reg 1 0x30687465 0x00000000 ]",
	    "[ counter pkts 0 bytes 0 ]",
	    "[ masq ]",
	    NULL};
	assert_contains_in_order(text, masq4);
	rule_text(r[1], text, sizeof(text));
	static const char *const drop4[] = {
	    "ip filter FORWARD",
	    "[ meta load oifname => reg 1 ]",
	    "[ cmp eq reg 1 0x30687465 0x00000000 ]",
	    "[ ct load state => reg 1 ]",
	    "[ bitwise reg 1 = ( reg 1 & 0x00000001 ) ^ 0x00000000 ]",
	    "[ cmp neq reg 1 0x00000000 ]",
	    "[ counter pkts 0 bytes 0 ]",
	    "[ immediate reg 0 drop ]",
	    NULL};
	assert_contains_in_order(text, drop4);
	uint32_t len;
	const char *ud = nftnl_rule_get_data(r[0], NFTNL_RULE_USERDATA, &len);
	ck_assert_int_eq((int)len, (int)strlen("coil-masquerade-eth0"));
	ck_assert(memcmp(ud, "coil-masquerade-eth0", len) == 0);
	nftnl_rule_free(r[0]);
	nftnl_rule_free(r[1]);

	m = masq("fd01::101", "eth0");
	ck_assert_int_eq(natrules_nft_masq_rules(&m, r), 0);
	rule_text(r[0], text, sizeof(text));
	static const char *const masq6[] = {
	    "ip6 nat POSTROUTING", "[ payload load 16b @ network header + 8 => reg 1 ]",
	    "[ cmp neq reg 1 0x000001fd 0x00000000 0x00000000 0x01010000 ]", "[ masq ]", NULL};
	assert_contains_in_order(text, masq6);
	nftnl_rule_free(r[0]);
	nftnl_rule_free(r[1]);
}
END_TEST

START_TEST(nft_connmark_plan)
{
	struct nftnl_rule *r[2];
	char text[2048];
	struct natrules_connmark c = {.family = AF_INET, .ifname = "eth0", .mark = 2};
	ck_assert_int_eq(natrules_nft_connmark_rules(&c, r), 0);
	rule_text(r[0], text, sizeof(text));
	static const char *const in[] = {"ip mangle input",
					 "[ meta load iifname => reg 1 ]",
					 "[ lookup reg 1 set eth0 ]",
					 "[ ct load state => reg 1 ]",
					 "[ bitwise reg 1 = ( reg 1 & 0x0000000e ) ^ 0x00000000 ]",
					 "[ cmp neq reg 1 0x00000000 ]",
					 "[ counter pkts 0 bytes 0 ]",
					 "[ immediate reg 1 0x00000002 ]",
					 "[ ct set mark with reg 1 ]",
					 NULL};
	assert_contains_in_order(text, in);
	rule_text(r[1], text, sizeof(text));
	static const char *const out[] = {"ip mangle output",
					  "[ ct load mark => reg 1 ]",
					  "[ cmp eq reg 1 0x00000002 ]",
					  "[ counter pkts 0 bytes 0 ]",
					  "[ ct load mark => reg 1 ]",
					  "[ meta set mark with reg 1 ]",
					  NULL};
	assert_contains_in_order(text, out);
	nftnl_rule_free(r[0]);
	nftnl_rule_free(r[1]);
	struct nftnl_set *s = natrules_nft_connmark_set(&c);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(nftnl_set_get_str(s, NFTNL_SET_NAME), "eth0");
	ck_assert_uint_eq(nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE), 41);
	ck_assert_uint_eq(nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN), 16);
	nftnl_set_free(s);
	c.ifname[0] = '\0';
	ck_assert_int_eq(natrules_nft_connmark_rules(&c, r), -EINVAL);
}
END_TEST

/* ---- root: for real in a fresh netns ---- */

static int ns = -1, orig = -1;

static void enter_fresh_ns(void)
{
	ck_assert_msg(testns_is_root(), "these tests need root");
	ck_assert_int_eq(testns_switch_new(&ns, &orig), 0);
}

static void leave_ns(void)
{
	testns_leave(&ns, &orig);
}

static int iptables_check(const struct natrules_iptables_rule *r)
{
	const char *argv[NATRULES_ARGV_MAX + 8];
	natrules_iptables_argv(r, "-C", argv);
	char path[64];
	snprintf(path, sizeof(path), "/usr/sbin/%s", argv[0]);
	argv[0] = path;
	return testns_exec(ns, (char *const *)(uintptr_t)argv);
}

static int count_rules(struct nftnl_rule *r, void *arg)
{
	(void)r;
	++*(int *)arg;
	return 0;
}

static int nft_rule_count(int family, const char *table, const char *chain)
{
	int n = 0;
	char err[256];
	int rc = natrules_nft_list_rules(family, table, chain, count_rules, &n, err, sizeof(err));
	return rc == 0 ? n : rc;
}

START_TEST(iptables_masq_for_real)
{
	enter_fresh_ns();
	char err[512];
	static const char *const addrs[] = {"127.0.0.1", "::1"};
	for (int i = 0; i < 2; i++) {
		struct natrules_masq m = masq(addrs[i], "lo");
		for (int twice = 0; twice < 2; twice++)
			ck_assert_msg(
			    natrules_masq_apply(NATRULES_IPTABLES, &m, err, sizeof(err)) == 0, "%s",
			    err);
		struct natrules_iptables_rule r[2];
		ck_assert_int_eq(natrules_iptables_masq_plan(&m, r, NULL, 0), 0);
		ck_assert_int_eq(iptables_check(&r[0]), 0);
		ck_assert_int_eq(iptables_check(&r[1]), 0);
		/* Debian's iptables is the nf_tables flavour: one rule, counters readable. */
		int family = i ? AF_INET6 : AF_INET;
		ck_assert_int_eq(nft_rule_count(family, "nat", "POSTROUTING"), 1);
		struct natrules_counter cnt;
		ck_assert_msg(natrules_nft_first_counter(family, "nat", "POSTROUTING", &cnt, err,
							 sizeof(err)) == 0,
			      "%s", err);
	}
	leave_ns();
}
END_TEST

START_TEST(nftables_masq_for_real)
{
	enter_fresh_ns();
	char err[512];
	struct natrules_masq m4 = masq("127.0.0.1", "lo");
	for (int twice = 0; twice < 2; twice++)
		ck_assert_msg(natrules_masq_apply(NATRULES_NFTABLES, &m4, err, sizeof(err)) == 0,
			      "%s", err);
	ck_assert_int_eq(nft_rule_count(AF_INET, "nat", "POSTROUTING"), 1);
	ck_assert_int_eq(nft_rule_count(AF_INET, "filter", "FORWARD"), 1);
	/* Only the configured family gets rules. */
	int v6 = nft_rule_count(AF_INET6, "nat", "POSTROUTING");
	ck_assert_msg(v6 == 0 || v6 == -ENOENT, "IPv6 rules: %d", v6);
	struct natrules_counter cnt = {1, 1};
	ck_assert_msg(
	    natrules_nft_first_counter(AF_INET, "filter", "FORWARD", &cnt, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_uint_eq(cnt.packets, 0);
	ck_assert_int_eq(
	    natrules_nft_first_counter(AF_INET6, "nat", "POSTROUTING", &cnt, err, sizeof(err)),
	    -ENOENT);
	struct natrules_masq m6 = masq("::1", "lo");
	ck_assert_msg(natrules_masq_apply(NATRULES_NFTABLES, &m6, err, sizeof(err)) == 0, "%s",
		      err);
	ck_assert_int_eq(nft_rule_count(AF_INET6, "nat", "POSTROUTING"), 1);
	leave_ns();
}
END_TEST

START_TEST(connmark_for_real)
{
	static const enum natrules_backend backends[] = {NATRULES_IPTABLES, NATRULES_NFTABLES};
	for (int b = 0; b < 2; b++) {
		for (int f = 0; f < 2; f++) {
			enter_fresh_ns();
			char err[512];
			struct natrules_connmark c = {
			    .family = f ? AF_INET6 : AF_INET, .ifname = "lo", .mark = 1};
			for (int twice = 0; twice < 2; twice++)
				ck_assert_msg(
				    natrules_connmark_apply(backends[b], &c, err, sizeof(err)) == 0,
				    "%s", err);
			const char *in = b ? "input" : "INPUT", *out = b ? "output" : "OUTPUT";
			ck_assert_int_eq(nft_rule_count(c.family, "mangle", in), 1);
			ck_assert_int_eq(nft_rule_count(c.family, "mangle", out), 1);
			ck_assert_msg(natrules_connmark_remove(backends[b], &c, err, sizeof(err)) ==
					  0,
				      "%s", err);
			int left = nft_rule_count(c.family, "mangle", in);
			ck_assert_msg(left == 0 || left == -ENOENT, "rules left: %d", left);
			/* Removing what is gone is fine. */
			ck_assert_msg(natrules_connmark_remove(backends[b], &c, err, sizeof(err)) ==
					  0,
				      "%s", err);
			leave_ns();
		}
	}
}
END_TEST

static Suite *natrules_suite(void)
{
	Suite *s = suite_create("natrules");
	TCase *plans = tcase_create("plans");
	tcase_add_test(plans, backend_names);
	tcase_add_test(plans, iptables_masq_plan);
	tcase_add_test(plans, iptables_connmark_plan);
	tcase_add_test(plans, nft_masq_plan);
	tcase_add_test(plans, nft_connmark_plan);
	suite_add_tcase(s, plans);
	TCase *kernel = tcase_create("kernel");
	tcase_set_timeout(kernel, 60);
	tcase_add_test(kernel, iptables_masq_for_real);
	tcase_add_test(kernel, nftables_masq_for_real);
	tcase_add_test(kernel, connmark_for_real);
	suite_add_tcase(s, kernel);
	return s;
}

int main(int argc, char **argv)
{
	SRunner *sr = srunner_create(natrules_suite());
	/* "plans" alone needs no root: the unit label runs it, the root label runs all. */
	srunner_run(sr, NULL, argc > 1 ? argv[1] : NULL, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
