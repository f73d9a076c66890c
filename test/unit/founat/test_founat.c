/* Unit tests of lib/founat's pure parts: link names and the Init/tunnel/peer plans. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "founat/founat.h"

static struct nl_ip ip(const char *text)
{
	struct nl_ip out;
	ck_assert_int_eq(nl_ip_parse(text, &out), 0);
	return out;
}

static struct founat_config dual(void)
{
	return (struct founat_config){.port = 5555, .local4 = ip("127.0.0.1"), .local6 = ip("::1")};
}

START_TEST(link_names)
{
	static const struct {
		const char *peer, *name;
	} cases[] = {
	    {"10.1.1.1", "fou4_0a010101"},
	    {"10.68.114.217", "fou4_0a4472d9"},
	    {"fd02::101", "fou6_1a0395a1"},
	    {"fd01::2", "fou6_ab098010"},
	    {"2606:4700:4700::9999", "fou6_09acf17a"},
	    {"::ffff:10.1.1.1", "fou4_0a010101"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[FOUNAT_NAME_LEN];
		struct nl_ip peer = ip(cases[i].peer);
		ck_assert_int_eq(founat_link_name(&peer, name, sizeof(name)), 0);
		ck_assert_str_eq(name, cases[i].name);
		ck_assert(nl_ifname_valid(name));
	}
	struct nl_ip none = {0};
	char name[FOUNAT_NAME_LEN];
	ck_assert_int_eq(founat_link_name(&none, name, sizeof(name)), -EINVAL);
}
END_TEST

START_TEST(init_plan_dual)
{
	struct founat_config c = dual();
	struct founat_init_plan p;
	char err[128];
	ck_assert_int_eq(founat_plan_init(&c, &p, err, sizeof(err)), 0);
	ck_assert_uint_eq(p.nlisteners, 2);
	ck_assert_int_eq(p.listeners[0].family, AF_INET);
	ck_assert_uint_eq(p.listeners[0].ipproto, 4);
	ck_assert_uint_eq(p.listeners[0].port, 5555);
	ck_assert_str_eq(p.listeners[0].module, "fou");
	ck_assert_int_eq(p.listeners[1].family, AF_INET6);
	ck_assert_uint_eq(p.listeners[1].ipproto, 41);
	ck_assert_str_eq(p.listeners[1].module, "fou6");
	ck_assert_uint_eq(p.nsysctls, 4);
	static const char *want[][2] = {{"net/ipv4/conf/default/rp_filter", "0"},
					{"net/ipv4/conf/all/rp_filter", "0"},
					{"net/ipv4/ip_forward", "1"},
					{"net/ipv6/conf/all/forwarding", "1"}};
	for (size_t i = 0; i < 4; i++) {
		char path[128] = "";
		for (size_t j = 0; j < p.sysctls[i].nparts; j++) {
			if (j)
				strcat(path, "/");
			strcat(path, p.sysctls[i].parts[j]);
		}
		ck_assert_str_eq(path, want[i][0]);
		ck_assert_str_eq(p.sysctls[i].value, want[i][1]);
	}
}
END_TEST

START_TEST(init_plan_single_family)
{
	struct founat_config c = dual();
	struct founat_init_plan p;
	c.local6.family = 0;
	ck_assert_int_eq(founat_plan_init(&c, &p, NULL, 0), 0);
	ck_assert_uint_eq(p.nlisteners, 1);
	ck_assert_int_eq(p.listeners[0].family, AF_INET);
	ck_assert_uint_eq(p.nsysctls, 3);
	c = dual();
	c.local4.family = 0;
	ck_assert_int_eq(founat_plan_init(&c, &p, NULL, 0), 0);
	ck_assert_uint_eq(p.nlisteners, 1);
	ck_assert_int_eq(p.listeners[0].family, AF_INET6);
	ck_assert_uint_eq(p.nsysctls, 1);
	char err[128];
	c.local6.family = 0;
	ck_assert_int_eq(founat_plan_init(&c, &p, err, sizeof(err)), -EINVAL);
	c = dual();
	c.port = 0;
	ck_assert_int_eq(founat_plan_init(&c, &p, err, sizeof(err)), -EINVAL);
}
END_TEST

START_TEST(tunnel_plan_v4)
{
	struct founat_config c = dual();
	struct founat_tunnel t;
	struct nl_ip peer = ip("10.1.1.1");
	ck_assert_int_eq(founat_plan_tunnel(&c, &peer, false, &t, NULL, 0), 0);
	ck_assert_str_eq(t.name, "fou4_0a010101");
	ck_assert_str_eq(t.kind, "ipip");
	ck_assert(nl_ip_equal(&t.local, &c.local4));
	ck_assert(nl_ip_equal(&t.remote, &peer));
	ck_assert_uint_eq(t.ttl, 225);
	ck_assert_uint_eq(t.sport, 5555);
	ck_assert_uint_eq(t.dport, 5555);
	ck_assert_str_eq(t.fallback, "coil_ipip4");
	ck_assert_str_eq(t.kernel_fallback, "tunl0");
	ck_assert_str_eq(t.renamed_fallback, "coil_tunl");
	ck_assert_int_eq(founat_plan_tunnel(&c, &peer, true, &t, NULL, 0), 0);
	ck_assert_uint_eq(t.sport, 0);
	ck_assert_uint_eq(t.dport, 5555);
	/* An IPv4-mapped peer is an IPv4 peer. */
	struct nl_ip mapped = ip("::ffff:10.1.1.1");
	ck_assert_int_eq(founat_plan_tunnel(&c, &mapped, true, &t, NULL, 0), 0);
	ck_assert_str_eq(t.kind, "ipip");
	ck_assert(nl_ip_equal(&t.remote, &peer));
}
END_TEST

START_TEST(tunnel_plan_v6)
{
	struct founat_config c = dual();
	struct founat_tunnel t;
	struct nl_ip peer = ip("fd02::101");
	ck_assert_int_eq(founat_plan_tunnel(&c, &peer, true, &t, NULL, 0), 0);
	ck_assert_str_eq(t.name, "fou6_1a0395a1");
	ck_assert_str_eq(t.kind, "ip6tnl");
	ck_assert(nl_ip_equal(&t.local, &c.local6));
	ck_assert_uint_eq(t.sport, 0);
	ck_assert_str_eq(t.fallback, "coil_ipip6");
	ck_assert_str_eq(t.kernel_fallback, "ip6tnl0");
	ck_assert_str_eq(t.renamed_fallback, "coil_ip6tnl");
}
END_TEST

START_TEST(tunnel_plan_family_mismatch)
{
	struct founat_config c = dual();
	struct founat_tunnel t;
	char err[64];
	struct nl_ip v6 = ip("fd02::101"), v4 = ip("10.1.1.1");
	c.local6.family = 0;
	ck_assert_int_eq(founat_plan_tunnel(&c, &v6, true, &t, err, sizeof(err)), FOUNAT_EFAMILY);
	ck_assert_str_eq(err, "no matching IP family");
	c = dual();
	c.local4.family = 0;
	ck_assert_int_eq(founat_plan_tunnel(&c, &v4, true, &t, err, sizeof(err)), FOUNAT_EFAMILY);
}
END_TEST

START_TEST(peer_steps)
{
	struct founat_config c = dual();
	struct founat_tunnel t;
	struct nl_ip peer = ip("10.1.1.1");
	ck_assert_int_eq(founat_plan_tunnel(&c, &peer, true, &t, NULL, 0), 0);
	ck_assert_int_eq(founat_plan_peer_step(&t, NULL), FOUNAT_STEP_CREATE);
	struct nl_iptun_info have = {.encap_sport = 0};
	strcpy(have.link.kind, "ipip");
	ck_assert_int_eq(founat_plan_peer_step(&t, &have), FOUNAT_STEP_KEEP);
	have.encap_sport = 5555;
	ck_assert_int_eq(founat_plan_peer_step(&t, &have), FOUNAT_STEP_RECREATE);
	strcpy(have.link.kind, "dummy");
	ck_assert_int_eq(founat_plan_peer_step(&t, &have), FOUNAT_STEP_CONFLICT);
}
END_TEST

static Suite *founat_suite(void)
{
	Suite *s = suite_create("founat plans");
	TCase *tc = tcase_create("plans");
	tcase_add_test(tc, link_names);
	tcase_add_test(tc, init_plan_dual);
	tcase_add_test(tc, init_plan_single_family);
	tcase_add_test(tc, tunnel_plan_v4);
	tcase_add_test(tc, tunnel_plan_v6);
	tcase_add_test(tc, tunnel_plan_family_mismatch);
	tcase_add_test(tc, peer_steps);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(founat_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
