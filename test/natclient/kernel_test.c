/* The NAT client's appliers on the real kernel, each test in a fresh network namespace of its
 * own (the process unshares one per test): the client rules, the 117/118 routes of a link
 * with both connmark backends and originating-only on and off, and the whole client through
 * natclient_setup/natclient_update. Tunnels come from stand-in operations that hand out a
 * veth (the host kernel has no FoU, ipip or dummy links; the guest tier runs the real ones);
 * the link "dummy-nat" plays upstream's dummy link (up, 203.0.113.1/24 and 2001:db8::1/64). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <time.h>
#include <unistd.h>

#include "natclient/natclient.h"

extern char **environ;

static struct nl_sock sock;
static char err[512];
static int nat_ifindex;

static void add_veth(const char *name, const char *peer)
{
	struct nl_veth v = {.name = name, .peer_name = peer, .peer_netns_fd = -1};
	ck_assert_msg(nl_veth_create(&sock, &v, err, sizeof(err)) == 0, "%s", err);
}

static int link_up(const char *name)
{
	struct nl_link l;
	ck_assert_msg(nl_link_get_by_name(&sock, name, &l, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(nl_link_set_up(&sock, l.index, true, err, sizeof(err)), 0);
	return l.index;
}

static void add_addr(int ifindex, const char *cidr)
{
	struct nl_addr a = {.ifindex = ifindex, .flags = IFA_F_NODAD};
	ck_assert_int_eq(nl_prefix_parse(cidr, &a.local), 0);
	ck_assert_msg(nl_addr_add(&sock, &a, err, sizeof(err)) == 0, "%s", err);
}

static void add_link_route(int ifindex, const char *cidr)
{
	struct nl_route r = {.oif = ifindex, .scope = RT_SCOPE_LINK, .protocol = RTPROT_STATIC};
	ck_assert_int_eq(nl_prefix_parse(cidr, &r.dst), 0);
	ck_assert_msg(nl_route_add(&sock, &r, err, sizeof(err)) == 0, "%s", err);
}

static void setup(void)
{
	ck_assert_msg(unshare(CLONE_NEWNET) == 0, "unshare: %s", strerror(errno));
	ck_assert_int_eq(nl_sock_open(&sock, err, sizeof(err)), 0);
	link_up("lo");
	add_veth("eth0", "eth0-peer");
	add_veth("dummy-nat", "dummy-peer");
	int eth0 = link_up("eth0");
	link_up("eth0-peer");
	nat_ifindex = link_up("dummy-nat");
	link_up("dummy-peer");
	add_addr(eth0, "10.1.1.1/32");
	add_addr(eth0, "fd02::1/128");
	add_link_route(eth0, "0.0.0.0/0");
	add_link_route(eth0, "::/0");
	add_addr(nat_ifindex, "203.0.113.1/24");
	add_addr(nat_ifindex, "2001:db8::1/64");
}

static void teardown(void)
{
	nl_sock_close(&sock);
}

static size_t routes_of(uint32_t table, int family, char out[][NL_PREFIX_STRLEN], size_t max)
{
	struct nl_route *routes = NULL;
	size_t n = 0, k = 0;
	struct nl_route_filter f = {.family = family, .table = table};
	ck_assert_msg(nl_route_list(&sock, &f, &routes, &n, err, sizeof(err)) == 0, "%s", err);
	for (size_t i = 0; i < n && k < max; i++)
		if (routes[i].table == table)
			nl_prefix_format(&routes[i].dst, out[k++], NL_PREFIX_STRLEN);
	free(routes);
	return k;
}

static bool has(char list[][NL_PREFIX_STRLEN], size_t n, const char *text)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], text))
			return true;
	return false;
}

/* Table `table` of family holds exactly the texts of want (NULL-terminated). */
static void table_is(uint32_t table, int family, const char *const *want)
{
	char got[32][NL_PREFIX_STRLEN];
	size_t n = routes_of(table, family, got, 32), nwant = 0;
	for (; want[nwant]; nwant++)
		ck_assert_msg(has(got, n, want[nwant]), "table %u lacks %s", table, want[nwant]);
	ck_assert_msg(n == nwant, "table %u has %zu routes, want %zu", table, n, nwant);
}

static bool rule_exists(int family, uint32_t prio, uint32_t table, const char *to)
{
	struct nl_rule *rules = NULL;
	size_t n = 0;
	bool found = false;
	ck_assert_int_eq(nl_rule_list(&sock, family, &rules, &n, err, sizeof(err)), 0);
	for (size_t i = 0; i < n; i++) {
		char dst[NL_PREFIX_STRLEN] = "";
		if (rules[i].dst.ip.family)
			nl_prefix_format(&rules[i].dst, dst, sizeof(dst));
		found |= rules[i].priority == prio && rules[i].table == table &&
			 !strcmp(dst, to ? to : "");
	}
	free(rules);
	return found;
}

static const struct {
	bool v4, v6;
} families[] = {{true, true}, {true, false}, {false, true}};

START_TEST(test_rules_init)
{
	bool v4 = families[_i].v4, v6 = families[_i].v6;
	ck_assert_int_eq(natclient_rules_check(&sock, v4, v6, err, sizeof(err)), 0);
	ck_assert_msg(natclient_rules_init(&sock, v4, v6, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(natclient_rules_check(&sock, v4, v6, err, sizeof(err)), 1);
	/* init again: harmless */
	ck_assert_msg(natclient_rules_init(&sock, v4, v6, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(natclient_rules_check(&sock, v4, v6, err, sizeof(err)), 1);
	ck_assert_int_eq(rule_exists(AF_INET, 1800, 254, "169.254.0.0/16"), v4);
	ck_assert_int_eq(rule_exists(AF_INET, 1900, 117, NULL), v4);
	ck_assert_int_eq(rule_exists(AF_INET, 2000, 254, "10.0.0.0/8"), v4);
	ck_assert_int_eq(rule_exists(AF_INET, 2001, 254, "172.16.0.0/12"), v4);
	ck_assert_int_eq(rule_exists(AF_INET, 2002, 254, "192.168.0.0/16"), v4);
	ck_assert_int_eq(rule_exists(AF_INET, 2100, 118, NULL), v4);
	ck_assert_int_eq(rule_exists(AF_INET6, 1800, 254, "fe80::/10"), v6);
	ck_assert_int_eq(rule_exists(AF_INET6, 1900, 117, NULL), v6);
	ck_assert_int_eq(rule_exists(AF_INET6, 2000, 254, "fc00::/7"), v6);
	ck_assert_int_eq(rule_exists(AF_INET6, 2100, 118, NULL), v6);
}
END_TEST

static int run(const char *const argv[])
{
	pid_t pid;
	int status = -1;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	int ret = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	ck_assert_int_eq(ret, 0);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void connmark_present(bool nft, bool present)
{
	char mark[16];
	snprintf(mark, sizeof(mark), "%d", nat_ifindex);
	if (nft) {
		const char *const v4[] = {"/usr/sbin/nft", "list",	"set", "ip",
					  "mangle",	   "dummy-nat", NULL};
		const char *const v6[] = {"/usr/sbin/nft", "list",	"set", "ip6",
					  "mangle",	   "dummy-nat", NULL};
		ck_assert_int_eq(run(v4) == 0, present);
		ck_assert_int_eq(run(v6) == 0, present);
		return;
	}
	const char *tools[] = {"/usr/sbin/iptables", "/usr/sbin/ip6tables"};
	for (int t = 0; t < 2; t++) {
		const char *const in[] = {tools[t],    "-w",	    "-t",
					  "mangle",    "-C",	    "INPUT",
					  "-i",	       "dummy-nat", "-m",
					  "conntrack", "--ctstate", "NEW,ESTABLISHED,RELATED",
					  "-j",	       "CONNMARK",  "--set-mark",
					  mark,	       NULL};
		const char *const out[] = {
		    tools[t],	"-w",	  "-t", "mangle", "-C",	      "OUTPUT",		"-m",
		    "connmark", "--mark", mark, "-j",	  "CONNMARK", "--restore-mark", NULL};
		ck_assert_int_eq(run(in) == 0, present);
		ck_assert_int_eq(run(out) == 0, present);
	}
}

static bool fwmark_rule(int family)
{
	struct nl_rule *rules = NULL;
	size_t n = 0;
	bool found = false;
	ck_assert_int_eq(nl_rule_list(&sock, family, &rules, &n, err, sizeof(err)), 0);
	for (size_t i = 0; i < n; i++)
		found |= natclient_is_fwmark_rule(&rules[i], nat_ifindex);
	free(rules);
	return found;
}

/* backend x originating-only, dual stack (the v4-only and v6-only splits are the plan's
 * unit tests) */
START_TEST(test_sync)
{
	bool nft = _i & 1, origonly = _i & 2;
	const struct natclient_connmark_ops *cm =
	    natclient_connmark_for(nft ? NATRULES_NFTABLES : NATRULES_IPTABLES);
	static const char *const first[] = {"10.1.2.0/24", "0.0.0.0/0", "fd02::/64", "::/0", NULL};
	static const char *const second[] = {"10.1.3.0/24", "9.9.9.9/32", "0.0.0.0/0", "fd03::/64",
					     "fd04::/64",   "fd05::/64",  "::/0",      NULL};
	struct nl_prefix want[8];
	size_t n;
	ck_assert_int_eq(natclient_rules_init(&sock, true, true, err, sizeof(err)), 0);

	for (n = 0; first[n]; n++)
		nl_prefix_parse(first[n], &want[n]);
	ck_assert_msg(natclient_routes_sync(&sock, nat_ifindex, want, n, true, true, origonly, cm,
					    err, sizeof(err)) == 0,
		      "%s", err);
	table_is(117, AF_INET, (const char *const[]){"10.1.2.0/24", NULL});
	table_is(118, AF_INET, (const char *const[]){"0.0.0.0/0", NULL});
	table_is(117, AF_INET6, (const char *const[]){"fd02::/64", NULL});
	table_is(118, AF_INET6, (const char *const[]){"::/0", NULL});

	for (n = 0; second[n]; n++)
		nl_prefix_parse(second[n], &want[n]);
	ck_assert_msg(natclient_routes_sync(&sock, nat_ifindex, want, n, true, true, origonly, cm,
					    err, sizeof(err)) == 0,
		      "%s", err);
	table_is(117, AF_INET, (const char *const[]){"10.1.3.0/24", NULL});
	table_is(118, AF_INET, (const char *const[]){"9.9.9.9/32", "0.0.0.0/0", NULL});
	table_is(117, AF_INET6, (const char *const[]){"fd03::/64", "fd04::/64", "fd05::/64", NULL});
	table_is(118, AF_INET6, (const char *const[]){"::/0", NULL});

	uint32_t own = NATCLIENT_ORIGONLY_TABLE_BASE + (uint32_t)nat_ifindex;
	ck_assert_int_eq(fwmark_rule(AF_INET), origonly);
	ck_assert_int_eq(fwmark_rule(AF_INET6), origonly);
	if (origonly) { /* the link's main routes, mirrored */
		table_is(own, AF_INET, (const char *const[]){"203.0.113.0/24", NULL});
		table_is(own, AF_INET6, (const char *const[]){"2001:db8::/64", "fe80::/64", NULL});
	}
	connmark_present(nft, origonly);

	/* originating-only switched off at the next sync: all of it goes */
	if (origonly) {
		ck_assert_int_eq(natclient_routes_sync(&sock, nat_ifindex, want, n, true, true,
						       false, cm, err, sizeof(err)),
				 0);
		ck_assert(!fwmark_rule(AF_INET) && !fwmark_rule(AF_INET6));
		table_is(own, AF_INET, (const char *const[]){NULL});
		connmark_present(nft, false);
	}

	/* init again clears 117 and 118 */
	ck_assert_int_eq(natclient_rules_init(&sock, true, true, err, sizeof(err)), 0);
	table_is(117, AF_INET, (const char *const[]){NULL});
	table_is(118, AF_INET, (const char *const[]){NULL});
	table_is(117, AF_INET6, (const char *const[]){NULL});
	table_is(118, AF_INET6, (const char *const[]){NULL});
}
END_TEST

/* Stand-in tunnel operations: "dummy-nat" is every peer's tunnel. */
static int marker;

static int fake_init(void *ctx, struct nl_sock *s, uint16_t port, const struct nl_ip *v4,
		     const struct nl_ip *v6, char *e, size_t len)
{
	marker = 1;
	return 0;
}

static int fake_initialized(void *ctx, struct nl_sock *s, char *e, size_t len)
{
	return marker;
}

static int fake_add_peer(void *ctx, struct nl_sock *s, uint16_t port, const struct nl_ip *v4,
			 const struct nl_ip *v6, const struct nl_ip *peer, bool sport_auto,
			 int *ifindex, char *e, size_t len)
{
	struct nl_link l;
	int ret = nl_link_get_by_name(s, "dummy-nat", &l, e, len);
	*ifindex = l.index;
	return ret;
}

static const struct natclient_tunnel_ops fake_tunnel = {fake_init, fake_initialized, fake_add_peer,
							NULL};

START_TEST(test_setup_and_update)
{
	struct natclient_config cfg = {.port = 5555, .tunnel = &fake_tunnel};
	struct natclient_pod pod = {.netns_path = "/proc/self/ns/net"};
	nl_ip_parse("10.1.1.1", &pod.ipv4); /* v4 only: the IPv6 gateway is skipped */
	struct natclient_gateway g[2] = {{.n_networks = 1}, {.n_networks = 1}};
	struct nl_prefix nets[2];
	nl_ip_parse("10.96.0.10", &g[0].address);
	nl_prefix_parse("0.0.0.0/0", &nets[0]);
	nl_ip_parse("fd03::10", &g[1].address);
	nl_prefix_parse("::/0", &nets[1]);
	g[0].networks = &nets[0];
	g[1].networks = &nets[1];
	struct natclient_gateways gws = {g, 2};
	marker = 0;
	ck_assert_int_eq(natclient_update(&cfg, &pod, &gws, err, sizeof(err)), -EAGAIN);
	ck_assert_str_eq(err, "fouTunnel hasn't been initialized");
	marker = 1;
	ck_assert_int_eq(natclient_update(&cfg, &pod, &gws, err, sizeof(err)), -EAGAIN);
	ck_assert_str_eq(err, "natClient hasn't been initialized");
	marker = 0;
	ck_assert_msg(natclient_setup(&cfg, &pod, &gws, err, sizeof(err)) == 0, "%s", err);
	table_is(118, AF_INET, (const char *const[]){"0.0.0.0/0", NULL});
	table_is(118, AF_INET6, (const char *const[]){NULL});
	ck_assert(!rule_exists(AF_INET6, 1900, 117, NULL));
	/* the Egress narrows its destinations */
	nl_prefix_parse("9.9.9.9/32", &nets[0]);
	ck_assert_msg(natclient_update(&cfg, &pod, &gws, err, sizeof(err)) == 0, "%s", err);
	table_is(118, AF_INET, (const char *const[]){"9.9.9.9/32", NULL});
	/* not a netns */
	pod.netns_path = "/proc/self/status";
	ck_assert_int_lt(natclient_setup(&cfg, &pod, &gws, err, sizeof(err)), 0);
}
END_TEST

/* ---- the real FoU side (a kernel with fou, ipip, ip6_tunnel, dummy: the guest tier) ---- */

static bool link_exists(const char *name, struct nl_link *out)
{
	return nl_link_get_by_name(&sock, name, out, err, sizeof(err)) == 0;
}

/* One Egress with a dual-stack Service: 10.96.0.16 (fou4_0a600010) and fd03::10, all
 * destinations. */
static void dual_gateways(struct natclient_gateways *gws, bool sport_auto)
{
	static struct natclient_gateway both[2];
	static struct nl_prefix nets[2];
	memset(both, 0, sizeof(both));
	nl_ip_parse("10.96.0.16", &both[0].address);
	nl_ip_parse("fd03::10", &both[1].address);
	nl_prefix_parse("0.0.0.0/0", &nets[0]);
	nl_prefix_parse("::/0", &nets[1]);
	for (int i = 0; i < 2; i++) {
		both[i].networks = &nets[i];
		both[i].n_networks = 1;
		both[i].sport_auto = sport_auto;
	}
	gws->items = both;
	gws->n = 2;
}

/* The whole client as at ADD, then an update that switches the encap source port to auto
 * (the tunnel is recreated with its routes), then a retried ADD. */
START_TEST(test_fou_client)
{
	struct natclient_config cfg = {.port = 5555, .tunnel = &natclient_founat_tunnel};
	struct natclient_pod pod = {.netns_path = "/proc/self/ns/net"};
	struct natclient_gateways gws;
	struct nl_link l;
	struct nl_iptun_info t;
	nl_ip_parse("10.1.1.1", &pod.ipv4);
	nl_ip_parse("fd02::1", &pod.ipv6);
	dual_gateways(&gws, false);
	ck_assert_int_eq(natclient_update(&cfg, &pod, &gws, err, sizeof(err)), -EAGAIN);
	ck_assert_str_eq(err, "fouTunnel hasn't been initialized");
	ck_assert_msg(natclient_setup(&cfg, &pod, &gws, err, sizeof(err)) == 0, "%s", err);
	ck_assert(link_exists("fou-dummy", &l));
	ck_assert(link_exists("coil_ipip4", &l) && (l.flags & IFF_UP));
	ck_assert(link_exists("coil_ipip6", &l) && (l.flags & IFF_UP));
	ck_assert_msg(nl_iptun_get(&sock, "fou4_0a600010", &t, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(t.encap_sport, 5555);
	ck_assert_uint_eq(t.encap_dport, 5555);
	ck_assert(t.link.flags & IFF_UP);
	table_is(118, AF_INET, (const char *const[]){"0.0.0.0/0", NULL});
	table_is(118, AF_INET6, (const char *const[]){"::/0", NULL});
	int old = t.link.index;
	dual_gateways(&gws, true);
	ck_assert_msg(natclient_update(&cfg, &pod, &gws, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(nl_iptun_get(&sock, "fou4_0a600010", &t, err, sizeof(err)), 0);
	ck_assert_uint_eq(t.encap_sport, 0);
	ck_assert_int_ne(t.link.index, old);
	table_is(118, AF_INET, (const char *const[]){"0.0.0.0/0", NULL});
	table_is(118, AF_INET6, (const char *const[]){"::/0", NULL});
	ck_assert_msg(natclient_setup(&cfg, &pod, &gws, err, sizeof(err)) == 0, "%s", err);
	table_is(118, AF_INET, (const char *const[]){"0.0.0.0/0", NULL});
}
END_TEST

static int by_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return (x > y) - (x < y);
}

/* What the NAT client adds to an ADD inside the pod (the two API reads aside): natclient_setup
 * with one dual-stack Egress, each run in a fresh netns; p50 of 15 printed for the record. */
START_TEST(test_fou_setup_latency)
{
	struct natclient_config cfg = {.port = 5555, .tunnel = &natclient_founat_tunnel};
	struct natclient_pod pod = {.netns_path = "/proc/self/ns/net"};
	struct natclient_gateways gws;
	long us[15];
	nl_ip_parse("10.1.1.1", &pod.ipv4);
	nl_ip_parse("fd02::1", &pod.ipv6);
	dual_gateways(&gws, false);
	for (int i = 0; i < 15; i++) {
		if (i > 0) {
			teardown();
			setup();
		}
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		ck_assert_msg(natclient_setup(&cfg, &pod, &gws, err, sizeof(err)) == 0, "%s", err);
		clock_gettime(CLOCK_MONOTONIC, &b);
		us[i] = (b.tv_sec - a.tv_sec) * 1000000 + (b.tv_nsec - a.tv_nsec) / 1000;
	}
	qsort(us, 15, sizeof(us[0]), by_long);
	printf("natclient_setup, one dual-stack Egress: p50 %ld us, min %ld us, max %ld us\n",
	       us[7], us[0], us[14]);
	fflush(stdout);
}
END_TEST

static int run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

static Suite *fou_suite(void)
{
	Suite *s = suite_create("natclient fou");
	TCase *tc = tcase_create("fou");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_fou_client);
	tcase_add_test(tc, test_fou_setup_latency);
	suite_add_tcase(s, tc);
	return s;
}

/* "fou" as the only argument runs the suite that needs FoU (the guest tier); without
 * arguments, the one any kernel with veths runs. */
int main(int argc, char **argv)
{
	if (geteuid() != 0) {
		fprintf(stderr,
			"FAIL: test_natclient_kernel must run as root (network namespaces)\n");
		return EXIT_FAILURE;
	}
	if (argc > 1 && !strcmp(argv[1], "fou"))
		return run_suite(fou_suite());
	Suite *s = suite_create("natclient kernel");
	TCase *tc = tcase_create("netns");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_rules_init, 0, 3);
	tcase_add_loop_test(tc, test_sync, 0, 4);
	tcase_add_test(tc, test_setup_and_update);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
