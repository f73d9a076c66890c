/* The plans: client rules, the 117/118 split, one link's route sync, originating-only. */
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "natclient/natclient.h"
#include "suites.h"

static void rule_text(const struct nl_rule *r, char *buf, size_t len)
{
	char dst[NL_PREFIX_STRLEN] = "all";
	if (r->dst.ip.family)
		nl_prefix_format(&r->dst, dst, sizeof(dst));
	snprintf(buf, len, "%u: to %s lookup %u", r->priority, dst, r->table);
}

static void plan_text(int family, char *buf, size_t len)
{
	struct nl_rule rules[NATCLIENT_MAX_RULES];
	size_t n = natclient_rules_plan(family, rules);
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		char one[128];
		size_t used = strlen(buf);
		ck_assert_int_eq(rules[i].family, family);
		ck_assert(rules[i].has_priority && !rules[i].has_fwmark && !rules[i].src.ip.family);
		rule_text(&rules[i], one, sizeof(one));
		snprintf(buf + used, len - used, "%s%s", i ? "; " : "", one);
	}
}

START_TEST(test_rules_plan)
{
	char text[1024];
	plan_text(AF_INET, text, sizeof(text));
	ck_assert_str_eq(text,
			 "1800: to 169.254.0.0/16 lookup 254; 1900: to all lookup 117; "
			 "2100: to all lookup 118; 2000: to 10.0.0.0/8 lookup 254; "
			 "2001: to 172.16.0.0/12 lookup 254; 2002: to 192.168.0.0/16 lookup 254");
	plan_text(AF_INET6, text, sizeof(text));
	ck_assert_str_eq(text, "1800: to fe80::/10 lookup 254; 1900: to all lookup 117; "
			       "2100: to all lookup 118; 2000: to fc00::/7 lookup 254");
}
END_TEST

/* The kernel's default rules of a fresh netns plus what init adds. */
static size_t kernel_rules(int family, bool with_client, struct nl_rule *out)
{
	size_t n = 0;
	out[n++] = (struct nl_rule){.family = family, .has_priority = true, .table = 255};
	out[n++] = (struct nl_rule){
	    .family = family, .has_priority = true, .priority = 32766, .table = RT_TABLE_MAIN};
	if (family == AF_INET)
		out[n++] = (struct nl_rule){
		    .family = family, .has_priority = true, .priority = 32767, .table = 253};
	if (with_client)
		n += natclient_rules_plan(family, out + n);
	return n;
}

START_TEST(test_rules_initialized)
{
	struct nl_rule rules[NATCLIENT_MAX_RULES + 4];
	for (int f = 0; f < 2; f++) {
		int family = f ? AF_INET6 : AF_INET;
		size_t n = kernel_rules(family, false, rules);
		ck_assert(!natclient_rules_initialized(family, rules, n));
		n = kernel_rules(family, true, rules);
		ck_assert(natclient_rules_initialized(family, rules, n));
		/* the other family's rules never count */
		ck_assert(!natclient_rules_initialized(f ? AF_INET : AF_INET6, rules, n));
		/* a second rule to 118 is not what init leaves */
		rules[n] = rules[n - 1];
		rules[n].table = NATCLIENT_TABLE_WIDE;
		ck_assert(!natclient_rules_initialized(family, rules, n + 1));
	}
}
END_TEST

START_TEST(test_prio_owned)
{
	ck_assert(!natclient_prio_owned(1799));
	ck_assert(natclient_prio_owned(1800));
	ck_assert(natclient_prio_owned(2000));
	ck_assert(natclient_prio_owned(2100));
	ck_assert(!natclient_prio_owned(2101));
	ck_assert(!natclient_prio_owned(1000));
}
END_TEST

static const struct {
	const char *net;
	uint32_t table;
} table_cases[] = {
    {"10.1.2.0/24", 117},    {"10.0.0.0/8", 117},
    {"172.16.0.0/12", 117},  {"172.31.255.0/24", 117},
    {"172.32.0.0/16", 118},  {"192.168.10.0/24", 117},
    {"192.169.0.0/16", 118}, {"0.0.0.0/0", 118},
    {"9.9.9.9/32", 118},     {"fd02::/64", 117},
    {"fc00::/7", 117},	     {"fe80::/10", 118},
    {"::/0", 118},	     {"2606:4700:4700::9999/128", 118},
};

START_TEST(test_table_for)
{
	struct nl_prefix p;
	ck_assert_int_eq(nl_prefix_parse(table_cases[_i].net, &p), 0);
	ck_assert_uint_eq(natclient_table_for(&p), table_cases[_i].table);
}
END_TEST

/* The route sync test of upstream's NAT client, as a sequence of plans applied to a fake
 * table: each sync leaves exactly the wanted networks, split 117/118, and nothing of a
 * family the pod lacks. */
struct fake_tables {
	struct nl_route routes[32];
	size_t n;
};

static void apply(struct fake_tables *t, const struct natclient_route_plan *p)
{
	for (size_t d = 0; d < p->n_del; d++)
		for (size_t i = 0; i < t->n; i++)
			if (nl_prefix_equal(&t->routes[i].dst, &p->del[d].dst) &&
			    t->routes[i].oif == p->del[d].oif) {
				t->routes[i] = t->routes[--t->n];
				break;
			}
	for (size_t a = 0; a < p->n_add; a++)
		t->routes[t->n++] = p->add[a];
}

static int by_text(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void tables_text(const struct fake_tables *t, uint32_t table, int oif, char *buf, size_t len)
{
	/* sorted for a stable text */
	const char *items[32];
	char texts[32][NL_PREFIX_STRLEN];
	size_t n = 0;
	for (size_t i = 0; i < t->n; i++)
		if (t->routes[i].table == table && t->routes[i].oif == oif)
			items[n] = nl_prefix_format(&t->routes[i].dst, texts[n], NL_PREFIX_STRLEN),
			n++;
	qsort(items, n, sizeof(items[0]), by_text);
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		size_t used = strlen(buf);
		snprintf(buf + used, len - used, "%s%s", i ? "," : "", items[i]);
	}
}

static size_t parse_list(const char *const *texts, struct nl_prefix *out)
{
	size_t n = 0;
	for (; texts[n]; n++)
		ck_assert_int_eq(nl_prefix_parse(texts[n], &out[n]), 0);
	return n;
}

/* Table 117 and 118 texts after each of the two syncs, per family set. */
static const struct {
	bool v4, v6;
	const char *t117[2], *t118[2];
} sync_cases[] = {
    {true,
     true,
     {"10.1.2.0/24,fd02::/64", "10.1.3.0/24,fd03::/64,fd04::/64,fd05::/64"},
     {"0.0.0.0/0,::/0", "0.0.0.0/0,9.9.9.9/32,::/0"}},
    {true, false, {"10.1.2.0/24", "10.1.3.0/24"}, {"0.0.0.0/0", "0.0.0.0/0,9.9.9.9/32"}},
    {false, true, {"fd02::/64", "fd03::/64,fd04::/64,fd05::/64"}, {"::/0", "::/0"}},
};

START_TEST(test_route_sync)
{
	static const char *const first[] = {"10.1.2.0/24", "0.0.0.0/0", "fd02::/64", "::/0", NULL};
	static const char *const second[] = {"10.1.3.0/24", "9.9.9.9/32", "0.0.0.0/0", "fd03::/64",
					     "fd04::/64",   "fd05::/64",  "::/0",      NULL};
	const char *const *lists[2] = {first, second};
	struct fake_tables t = {0};
	/* another tunnel's route is never touched */
	ck_assert_int_eq(nl_prefix_parse("8.8.8.8/32", &t.routes[0].dst), 0);
	t.routes[0].oif = 9;
	t.routes[0].table = 118;
	t.n = 1;
	for (int step = 0; step < 2; step++) {
		struct nl_prefix want[8];
		size_t n = parse_list(lists[step], want);
		struct natclient_route_plan plan;
		ck_assert_int_eq(natclient_route_plan(t.routes, t.n, 7, want, n, sync_cases[_i].v4,
						      sync_cases[_i].v6, &plan),
				 0);
		for (size_t i = 0; i < plan.n_add; i++) {
			ck_assert_int_eq(plan.add[i].oif, 7);
			ck_assert_int_eq(plan.add[i].protocol, NATCLIENT_ROUTE_PROTOCOL);
		}
		/* originating-only follows the families that had something to add */
		ck_assert(plan.add_family[0] && plan.add_family[1]);
		apply(&t, &plan);
		natclient_route_plan_free(&plan);
		char text[256];
		tables_text(&t, 117, 7, text, sizeof(text));
		ck_assert_str_eq(text, sync_cases[_i].t117[step]);
		tables_text(&t, 118, 7, text, sizeof(text));
		ck_assert_str_eq(text, sync_cases[_i].t118[step]);
		tables_text(&t, 118, 9, text, sizeof(text));
		ck_assert_str_eq(text, "8.8.8.8/32");
	}
	/* the same wanted list again: nothing to do */
	struct nl_prefix want[8];
	size_t n = parse_list(second, want);
	struct natclient_route_plan plan;
	ck_assert_int_eq(natclient_route_plan(t.routes, t.n, 7, want, n, sync_cases[_i].v4,
					      sync_cases[_i].v6, &plan),
			 0);
	ck_assert_uint_eq(plan.n_del, 0);
	ck_assert_uint_eq(plan.n_add, 0);
	/* a family the pod lacks stays "to add" (so originating-only is configured for it on
	 * every sync, as upstream does) */
	ck_assert_int_eq(plan.add_family[0], !sync_cases[_i].v4);
	ck_assert_int_eq(plan.add_family[1], !sync_cases[_i].v6);
	natclient_route_plan_free(&plan);
}
END_TEST

START_TEST(test_route_plan_duplicates)
{
	struct nl_prefix want[2];
	ck_assert_int_eq(nl_prefix_parse("0.0.0.0/0", &want[0]), 0);
	want[1] = want[0];
	struct natclient_route_plan plan;
	ck_assert_int_eq(natclient_route_plan(NULL, 0, 3, want, 2, true, false, &plan), 0);
	ck_assert_uint_eq(plan.n_add, 1);
	natclient_route_plan_free(&plan);
}
END_TEST

static struct nl_addr addr(int ifindex, const char *cidr, unsigned char scope)
{
	struct nl_addr a = {.ifindex = ifindex, .scope = scope};
	ck_assert_int_eq(nl_prefix_parse(cidr, &a.local), 0);
	return a;
}

static struct nl_route route(int oif, const char *cidr)
{
	struct nl_route r = {.oif = oif, .table = RT_TABLE_MAIN, .scope = RT_SCOPE_LINK};
	ck_assert_int_eq(nl_prefix_parse(cidr, &r.dst), 0);
	return r;
}

START_TEST(test_origonly_plan)
{
	/* lo (1): host scope; eth0 (2): global v4 and v6, main routes; fou-dummy (3): none;
	 * eth1 (4): a global address but no routes of its own */
	struct nl_addr addrs[] = {
	    addr(1, "127.0.0.1/8", RT_SCOPE_HOST), addr(2, "10.1.2.4/32", RT_SCOPE_UNIVERSE),
	    addr(2, "fd02::4/128", RT_SCOPE_UNIVERSE), addr(2, "fe80::1/64", RT_SCOPE_LINK),
	    addr(4, "10.9.9.9/32", RT_SCOPE_UNIVERSE)};
	struct nl_route main[] = {route(2, "0.0.0.0/0"), route(2, "10.20.30.41/32"),
				  route(1, "127.0.0.0/8"), route(2, "fd02::/64")};
	struct natclient_origonly_plan plan;
	ck_assert_int_eq(natclient_origonly_plan(AF_INET, addrs, 5, main, 4, NULL, 0, &plan), 0);
	ck_assert_uint_eq(plan.n, 1);
	ck_assert_int_eq(plan.links[0].ifindex, 2);
	ck_assert_uint_eq(plan.links[0].n_routes, 2);
	for (size_t i = 0; i < 2; i++) {
		ck_assert_uint_eq(plan.links[0].routes[i].table, 1002);
		ck_assert_int_eq(plan.links[0].routes[i].scope, RT_SCOPE_LINK); /* kept */
	}
	ck_assert(plan.links[0].add_rule);
	const struct nl_rule *r = &plan.links[0].rule;
	ck_assert(natclient_is_fwmark_rule(r, 2));
	ck_assert_int_eq(r->family, AF_INET);
	ck_assert_uint_eq(r->fwmask, 0); /* no mask: the full mark */
	/* the rule exists: not added again */
	struct nl_rule existing = *r;
	natclient_origonly_plan_free(&plan);
	ck_assert_int_eq(natclient_origonly_plan(AF_INET, addrs, 5, main, 4, &existing, 1, &plan),
			 0);
	ck_assert(!plan.links[0].add_rule);
	natclient_origonly_plan_free(&plan);
	/* IPv6: only the v6 route */
	ck_assert_int_eq(natclient_origonly_plan(AF_INET6, addrs, 5, main, 4, NULL, 0, &plan), 0);
	ck_assert_uint_eq(plan.n, 1);
	ck_assert_uint_eq(plan.links[0].n_routes, 1);
	natclient_origonly_plan_free(&plan);
	ck_assert(!natclient_is_fwmark_rule(&existing, 3));
}
END_TEST

Suite *plan_suite(void)
{
	Suite *s = suite_create("plans");
	TCase *tc = tcase_create("pure");
	tcase_add_test(tc, test_rules_plan);
	tcase_add_test(tc, test_rules_initialized);
	tcase_add_test(tc, test_prio_owned);
	tcase_add_loop_test(tc, test_table_for, 0, sizeof(table_cases) / sizeof(table_cases[0]));
	tcase_add_loop_test(tc, test_route_sync, 0, sizeof(sync_cases) / sizeof(sync_cases[0]));
	tcase_add_test(tc, test_route_plan_duplicates);
	tcase_add_test(tc, test_origonly_plan);
	suite_add_tcase(s, tc);
	return s;
}
