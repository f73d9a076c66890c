/* Root tests of lib/nl in throw-away network namespaces: the test thread enters a fresh
 * "host" netns for each test and a second fresh netns plays the peer side. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nl/nl.h"
#include <linux/if.h> /* after net/if.h (via nl.h): IF_OPER_* */
#include "testns.h"

static int orig_ns = -1, host_ns = -1, peer_ns = -1;
static struct nl_sock hs, ps; /* sockets in host_ns and peer_ns */
static char err[512];

static void enter_fresh_netns(void)
{
	orig_ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	host_ns = testns_new();
	peer_ns = testns_new();
	ck_assert_int_ge(host_ns, 0);
	ck_assert_int_ge(peer_ns, 0);
	ck_assert_int_eq(testns_enter(host_ns), 0);
	ck_assert_int_eq(nl_sock_open(&hs, err, sizeof(err)), 0);
	ck_assert_int_eq(nl_sock_open_in(&ps, peer_ns, err, sizeof(err)), 0);
}

static void leave_netns(void)
{
	nl_sock_close(&hs);
	nl_sock_close(&ps);
	if (orig_ns >= 0)
		testns_enter(orig_ns);
	close(host_ns);
	close(peer_ns);
	close(orig_ns);
	orig_ns = host_ns = peer_ns = -1;
}

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

/* Creates veth vh0 (host_ns) / vp0 (peer_ns), both up; returns vh0's index. */
static int
make_veth(unsigned mtu)
{
	struct nl_veth v = {"vh0", "vp0", peer_ns, mtu};
	struct nl_link h, p;
	ck_assert_msg(nl_veth_create(&hs, &v, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(nl_link_get_by_name(&hs, "vh0", &h, err, sizeof(err)), 0);
	ck_assert_int_eq(nl_link_get_by_name(&ps, "vp0", &p, err, sizeof(err)), 0);
	ck_assert_int_eq(nl_link_set_up(&hs, h.index, true, err, sizeof(err)), 0);
	ck_assert_int_eq(nl_link_set_up(&ps, p.index, true, err, sizeof(err)), 0);
	return h.index;
}

/* ---- pure: prefixes ---- */

static const struct {
	const char *in;
	int rc;
	const char *out;
} prefix_cases[] = {
    {"10.1.2.3/32", 0, "10.1.2.3/32"},
    {"10.1.2.3", 0, "10.1.2.3/32"},
    {"fd02::0200/123", 0, "fd02::200/123"},
    {"fd02::1", 0, "fd02::1/128"},
    {"0.0.0.0/0", 0, "0.0.0.0/0"},
    {"::/0", 0, "::/0"},
    {"10.1.2.3/33", -EINVAL, NULL},
    {"fd02::/129", -EINVAL, NULL},
    {"10.1.2.3/", -EINVAL, NULL},
    {"10.1.2.3/-1", -EINVAL, NULL},
    {"10.1.2.3/3x", -EINVAL, NULL},
    {"/24", -EINVAL, NULL},
    {"", -EINVAL, NULL},
    {"10.1.2/24", -EINVAL, NULL},
    {"hello", -EINVAL, NULL},
    {"10.1.2.3/0032", -EINVAL, NULL},
};

START_TEST(prefix_parse_table)
{
	struct nl_prefix p;
	char buf[NL_PREFIX_STRLEN];
	int rc = nl_prefix_parse(prefix_cases[_i].in, &p);
	ck_assert_msg(rc == prefix_cases[_i].rc, "%s: rc %d", prefix_cases[_i].in, rc);
	if (rc == 0)
		ck_assert_str_eq(nl_prefix_format(&p, buf, sizeof(buf)), prefix_cases[_i].out);
}
END_TEST

START_TEST(prefix_mask_clears_host_bits)
{
	char buf[NL_PREFIX_STRLEN];
	struct nl_prefix p = P("10.2.3.255/22");
	nl_prefix_mask(&p);
	ck_assert_str_eq(nl_prefix_format(&p, buf, sizeof(buf)), "10.2.0.0/22");
	p = P("fd02::3ff/119");
	nl_prefix_mask(&p);
	ck_assert_str_eq(nl_prefix_format(&p, buf, sizeof(buf)), "fd02::200/119");
	p = P("1.2.3.4/0");
	nl_prefix_mask(&p);
	ck_assert_str_eq(nl_prefix_format(&p, buf, sizeof(buf)), "0.0.0.0/0");
}
END_TEST

START_TEST(ifname_validation)
{
	ck_assert(nl_ifname_valid("eth0"));
	ck_assert(nl_ifname_valid("veth1a2b3c4d"));
	ck_assert(nl_ifname_valid("abcdefghijklmno")); /* 15 */
	ck_assert(!nl_ifname_valid("abcdefghijklmnop"));
	ck_assert(!nl_ifname_valid(""));
	ck_assert(!nl_ifname_valid(".."));
	ck_assert(!nl_ifname_valid("a/b"));
	ck_assert(!nl_ifname_valid("a b"));
	ck_assert(!nl_ifname_valid("a:b"));
}
END_TEST

/* ---- links ---- */

START_TEST(veth_across_namespaces)
{
	struct nl_veth v = {"vh0", "vp0", peer_ns, 1400};
	struct nl_link h, p, none;
	ck_assert_msg(nl_veth_create(&hs, &v, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(nl_link_get_by_name(&hs, "vh0", &h, err, sizeof(err)), 0);
	ck_assert_int_eq(nl_link_get_by_name(&ps, "vp0", &p, err, sizeof(err)), 0);
	ck_assert_str_eq(h.kind, "veth");
	ck_assert_str_eq(p.kind, "veth");
	ck_assert_uint_eq(h.mtu, 1400);
	ck_assert_uint_eq(p.mtu, 1400);
	ck_assert_uint_eq(h.mac_len, 6);
	ck_assert(!(h.flags & IFF_UP));
	/* The peer was born in the other netns: not visible here. */
	ck_assert_int_eq(nl_link_get_by_name(&hs, "vp0", &none, err, sizeof(err)), -ENODEV);
	ck_assert_ptr_nonnull(strstr(err, "get link vp0"));
	ck_assert_int_eq(nl_link_get_by_name(&ps, "vh0", &none, err, sizeof(err)), -ENODEV);
	/* Same names again: EEXIST. */
	ck_assert_int_eq(nl_veth_create(&hs, &v, err, sizeof(err)), -EEXIST);
	ck_assert_ptr_nonnull(strstr(err, "create veth vh0 peer vp0: File exists"));
	struct nl_veth clash = {"vh1", "vp0", peer_ns, 0};
	ck_assert_int_eq(nl_veth_create(&hs, &clash, err, sizeof(err)), -EEXIST);

	ck_assert_int_eq(nl_link_get_by_index(&hs, h.index, &none, err, sizeof(err)), 0);
	ck_assert_str_eq(none.name, "vh0");
	ck_assert_int_eq(nl_link_get_by_index(&hs, 99999, &none, err, sizeof(err)), -ENODEV);
}
END_TEST

START_TEST(link_attributes_and_dump)
{
	int idx = make_veth(0);
	struct nl_link l;
	ck_assert_int_eq(nl_link_get_by_index(&hs, idx, &l, err, sizeof(err)), 0);
	ck_assert(l.flags & IFF_UP);
	ck_assert_uint_eq(l.mtu, 1500);
	ck_assert_int_eq(nl_link_set_mtu(&hs, idx, 1450, err, sizeof(err)), 0);
	ck_assert_int_eq(nl_link_set_alias(&hs, idx, "COIL:default:abc:eth0", err, sizeof(err)), 0);
	ck_assert_int_eq(nl_link_set_up(&hs, idx, false, err, sizeof(err)), 0);
	ck_assert_int_eq(nl_link_rename(&hs, idx, "vhX", err, sizeof(err)), 0);

	struct nl_link *all;
	size_t n;
	ck_assert_int_eq(nl_link_list(&hs, &all, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 2); /* lo + vhX */
	int found = 0;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(all[i].name, "vhX"))
			continue;
		found = 1;
		ck_assert_int_eq(all[i].index, idx);
		ck_assert_str_eq(all[i].alias, "COIL:default:abc:eth0");
		ck_assert_uint_eq(all[i].mtu, 1450);
		ck_assert_str_eq(all[i].kind, "veth");
		ck_assert_uint_eq(all[i].operstate, IF_OPER_DOWN);
		ck_assert(!(all[i].flags & IFF_UP));
	}
	free(all);
	ck_assert(found);
	char mac[3 * NL_MAC_MAX];
	ck_assert_uint_eq(strlen(nl_mac_format(l.mac, l.mac_len, mac, sizeof(mac))), 17);

	ck_assert_int_eq(nl_link_delete_by_name(&hs, "vhX", err, sizeof(err)), 0);
	ck_assert_int_eq(nl_link_delete(&hs, idx, err, sizeof(err)), -ENODEV);
	ck_assert_int_eq(nl_link_delete_by_name(&hs, "vhX", err, sizeof(err)), -ENODEV);
	/* Deleting one end removed the peer in the other netns. */
	ck_assert_int_eq(nl_link_get_by_name(&ps, "vp0", &l, err, sizeof(err)), -ENODEV);
}
END_TEST

/* ---- addresses ---- */

static const struct nl_addr *find_addr(const struct nl_addr *a, size_t n, const char *ip)
{
	struct nl_ip want = IP(ip);
	for (size_t i = 0; i < n; i++)
		if (nl_ip_equal(&a[i].local.ip, &want))
			return &a[i];
	return NULL;
}

START_TEST(addresses_with_nodad)
{
	int idx = make_veth(0);
	const char *dad[] = {"net", "ipv6", "conf", "vh0", "accept_dad"};
	ck_assert_int_eq(nl_sysctl_write(dad, 5, "1", err, sizeof(err)), 0);
	struct nl_addr v4 = {idx, P("10.20.30.41/32"), RT_SCOPE_UNIVERSE, 0};
	struct nl_addr nodad = {idx, P("fd10::41/128"), RT_SCOPE_UNIVERSE, IFA_F_NODAD};
	struct nl_addr dadv6 = {idx, P("fd10::42/128"), RT_SCOPE_UNIVERSE, 0};
	ck_assert_msg(nl_addr_add(&hs, &v4, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(nl_addr_add(&hs, &nodad, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(nl_addr_add(&hs, &dadv6, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(nl_addr_add(&hs, &v4, err, sizeof(err)), -EEXIST);
	ck_assert_ptr_nonnull(strstr(err, "add address 10.20.30.41/32 on link"));

	struct nl_addr *a;
	size_t n;
	ck_assert_int_eq(nl_addr_list(&hs, AF_INET6, idx, &a, &n, err, sizeof(err)), 0);
	const struct nl_addr *x = find_addr(a, n, "fd10::41");
	ck_assert_ptr_nonnull(x);
	ck_assert(x->flags & IFA_F_NODAD);
	ck_assert(!(x->flags & IFA_F_TENTATIVE));
	ck_assert_uint_eq(x->local.len, 128);
	ck_assert_uint_eq(x->scope, RT_SCOPE_UNIVERSE);
	x = find_addr(a, n, "fd10::42");
	ck_assert_ptr_nonnull(x);
	ck_assert(x->flags & IFA_F_TENTATIVE);
	ck_assert_ptr_null(find_addr(a, n, "10.20.30.41")); /* family filter */
	free(a);

	ck_assert_int_eq(nl_addr_list(&hs, AF_UNSPEC, 0, &a, &n, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(find_addr(a, n, "127.0.0.1"));
	x = find_addr(a, n, "10.20.30.41");
	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(x->ifindex, idx);
	free(a);

	ck_assert_int_eq(nl_addr_del(&hs, &v4, err, sizeof(err)), 0);
	ck_assert_int_eq(nl_addr_list(&hs, AF_INET, idx, &a, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 0);
	free(a);
}
END_TEST

/* ---- routes ---- */

START_TEST(routes_in_table_116)
{
	int idx = make_veth(0);
	struct nl_route r = {.dst = P("10.1.2.3/32"),
			     .table = 116,
			     .protocol = 30,
			     .scope = RT_SCOPE_LINK,
			     .oif = idx};
	struct nl_route r6 = r;
	r6.dst = P("fd02::1/128");
	ck_assert_msg(nl_route_add(&hs, &r, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(nl_route_add(&hs, &r6, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(nl_route_add(&hs, &r, err, sizeof(err)), -EEXIST);
	ck_assert_str_eq(err, "add route 10.1.2.3/32 table 116: File exists");
	ck_assert_int_eq(nl_route_replace(&hs, &r, err, sizeof(err)), 0);

	struct nl_route_filter f = {.family = AF_UNSPEC, .table = 116};
	struct nl_route *rs;
	size_t n;
	ck_assert_int_eq(nl_route_list(&hs, &f, &rs, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert(nl_prefix_equal(&rs[0].dst, &r.dst));
	ck_assert_uint_eq(rs[0].protocol, 30);
	ck_assert_uint_eq(rs[0].scope, RT_SCOPE_LINK);
	ck_assert_uint_eq(rs[0].table, 116);
	ck_assert_int_eq(rs[0].oif, idx);
	ck_assert(nl_prefix_equal(&rs[1].dst, &r6.dst));
	ck_assert_uint_eq(rs[1].protocol, 30);
	free(rs);

	/* Filters: protocol, family, oif, and a table that does not exist. */
	f = (struct nl_route_filter){.family = AF_INET6, .protocol = 30};
	ck_assert_int_eq(nl_route_list(&hs, &f, &rs, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 1);
	free(rs);
	f = (struct nl_route_filter){.family = AF_UNSPEC, .table = 4242};
	ck_assert_msg(nl_route_list(&hs, &f, &rs, &n, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(n, 0);
	free(rs);

	/* Table ids above 255 travel in RTA_TABLE. */
	struct nl_route big = r;
	big.table = 1000;
	big.dst = P("10.1.0.0/16");
	ck_assert_int_eq(nl_route_add(&hs, &big, err, sizeof(err)), 0);
	f = (struct nl_route_filter){.family = AF_INET, .table = 1000};
	ck_assert_int_eq(nl_route_list(&hs, &f, &rs, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(rs[0].table, 1000);
	free(rs);

	ck_assert_int_eq(nl_route_del(&hs, &r, err, sizeof(err)), 0);
	ck_assert_int_eq(nl_route_del(&hs, &r, err, sizeof(err)), -ESRCH);
	f = (struct nl_route_filter){.family = AF_INET, .table = 116};
	ck_assert_int_eq(nl_route_list(&hs, &f, &rs, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 0);
	free(rs);
}
END_TEST

START_TEST(gateway_routes_and_lookup)
{
	int idx = make_veth(1400);
	struct nl_addr a = {idx, P("10.9.0.1/24"), RT_SCOPE_UNIVERSE, 0};
	ck_assert_int_eq(nl_addr_add(&hs, &a, err, sizeof(err)), 0);
	struct nl_route def = {.dst = P("0.0.0.0/0"), .gateway = IP("10.9.0.2")};
	ck_assert_msg(nl_route_add(&hs, &def, err, sizeof(err)) == 0, "%s", err);

	struct nl_route got;
	struct nl_ip probe = IP("192.0.0.10");
	ck_assert_msg(nl_route_get(&hs, &probe, &got, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(got.oif, idx);
	ck_assert(nl_ip_equal(&got.gateway, &def.gateway));

	struct nl_route_filter f = {.family = AF_INET, .table = RT_TABLE_MAIN};
	struct nl_route *rs;
	size_t n;
	ck_assert_int_eq(nl_route_list(&hs, &f, &rs, &n, err, sizeof(err)), 0);
	int saw_default = 0;
	for (size_t i = 0; i < n; i++)
		if (rs[i].dst.len == 0) {
			saw_default = 1;
			ck_assert_int_eq(rs[i].dst.ip.family, AF_INET);
			ck_assert(nl_ip_equal(&rs[i].gateway, &def.gateway));
		}
	free(rs);
	ck_assert(saw_default);

	struct nl_ip v6probe = IP("2001:1::2");
	ck_assert_int_eq(nl_route_get(&hs, &v6probe, &got, err, sizeof(err)), -ENETUNREACH);
}
END_TEST

/* ---- rules ---- */

static int count_rules(int family, uint32_t prio, uint32_t table)
{
	struct nl_rule *rs;
	size_t n;
	int count = 0;
	ck_assert_int_eq(nl_rule_list(&hs, family, &rs, &n, err, sizeof(err)), 0);
	for (size_t i = 0; i < n; i++)
		if (rs[i].has_priority && rs[i].priority == prio && rs[i].table == table)
			count++;
	free(rs);
	return count;
}

START_TEST(rules)
{
	struct nl_rule r = {
	    .family = AF_INET, .has_priority = true, .priority = 2000, .table = 116};
	ck_assert_msg(nl_rule_add(&hs, &r, err, sizeof(err)) == 0, "%s", err);
	r.family = AF_INET6;
	ck_assert_msg(nl_rule_add(&hs, &r, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(count_rules(AF_INET, 2000, 116), 1);
	ck_assert_int_eq(count_rules(AF_INET6, 2000, 116), 1);
	ck_assert_int_eq(nl_rule_add(&hs, &r, err, sizeof(err)), -EEXIST);

	struct nl_rule sel = {.family = AF_INET,
			      .has_priority = true,
			      .priority = 1990,
			      .table = 1001,
			      .dst = P("10.100.0.0/16"),
			      .has_fwmark = true,
			      .fwmark = 0x5};
	strcpy(sel.iif, "lo");
	ck_assert_msg(nl_rule_add(&hs, &sel, err, sizeof(err)) == 0, "%s", err);
	struct nl_rule *rs;
	size_t n;
	ck_assert_int_eq(nl_rule_list(&hs, AF_INET, &rs, &n, err, sizeof(err)), 0);
	int found = 0;
	for (size_t i = 0; i < n; i++) {
		if (rs[i].priority != 1990)
			continue;
		found = 1;
		ck_assert_uint_eq(rs[i].table, 1001);
		ck_assert(nl_prefix_equal(&rs[i].dst, &sel.dst));
		ck_assert_str_eq(rs[i].iif, "lo");
		ck_assert(rs[i].has_fwmark);
		ck_assert_uint_eq(rs[i].fwmark, 5);
		ck_assert_uint_eq(rs[i].fwmask, 0xffffffffu);
	}
	free(rs);
	ck_assert(found);

	ck_assert_int_eq(nl_rule_del(&hs, &sel, err, sizeof(err)), 0);
	ck_assert_int_eq(nl_rule_del(&hs, &r, err, sizeof(err)), 0);
	ck_assert_int_eq(count_rules(AF_INET6, 2000, 116), 0);
	ck_assert_int_eq(count_rules(AF_INET, 2000, 116), 1);
}
END_TEST

/* ---- netns ---- */

static int report_ino(void *arg)
{
	*(unsigned long *)arg = testns_current_ino();
	return 42;
}

START_TEST(netns_run_returns_to_original)
{
	unsigned long before = testns_current_ino(), inside = 0;
	ck_assert_int_eq(nl_netns_run(peer_ns, report_ino, &inside, err, sizeof(err)), 42);
	ck_assert_uint_ne(inside, before);
	ck_assert_uint_ne(inside, 0);
	ck_assert_uint_eq(testns_current_ino(), before);

	char path[64];
	int fd;
	testns_path(peer_ns, path, sizeof(path));
	ck_assert_msg(nl_netns_open(path, &fd, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(nl_netns_run(fd, report_ino, &inside, err, sizeof(err)), 42);
	close(fd);
	ck_assert_int_eq(nl_netns_open("/proc/self/ns/uts", &fd, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "not a network namespace"));
	ck_assert_int_eq(nl_netns_open("/proc/self/status", &fd, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(nl_netns_open("/nonexistent/netns", &fd, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "open netns /nonexistent/netns"));
	ck_assert_uint_eq(testns_current_ino(), before);
}
END_TEST

static void *thread_ino(void *arg)
{
	*(unsigned long *)arg = testns_current_ino();
	return NULL;
}

static int start_thread_inside(void *arg)
{
	/* A thread created now is born in peer_ns; threads created before stay put. */
	pthread_t t;
	pthread_create(&t, NULL, thread_ino, arg);
	pthread_join(t, NULL);
	return 0;
}

START_TEST(netns_switch_is_per_thread)
{
	unsigned long here = testns_current_ino(), child = 0, peer = 0;
	nl_netns_run(peer_ns, report_ino, &peer, err, sizeof(err));
	ck_assert_int_eq(nl_netns_run(peer_ns, start_thread_inside, &child, err, sizeof(err)), 0);
	ck_assert_uint_eq(child, peer);
	pthread_t t;
	pthread_create(&t, NULL, thread_ino, &child);
	pthread_join(t, NULL);
	ck_assert_uint_eq(child, here);
}
END_TEST

/* ---- sysctl ---- */

START_TEST(sysctl_paths)
{
	char val[32];
	const char *fwd[] = {"net", "ipv4", "ip_forward"};
	ck_assert_int_eq(nl_sysctl_write(fwd, 3, "1", err, sizeof(err)), 0);
	ck_assert_int_eq(nl_sysctl_read(fwd, 3, val, sizeof(val), err, sizeof(err)), 0);
	ck_assert_str_eq(val, "1");
	const char *dotdot[] = {"net", "..", "kernel", "hostname"};
	ck_assert_int_eq(nl_sysctl_write(dotdot, 4, "x", err, sizeof(err)), -EINVAL);
	const char *slash[] = {"net", "ipv6/../../kernel", "hostname"};
	ck_assert_int_eq(nl_sysctl_write(slash, 3, "x", err, sizeof(err)), -EINVAL);
	const char *empty[] = {"net", "", "x"};
	ck_assert_int_eq(nl_sysctl_read(empty, 3, val, sizeof(val), err, sizeof(err)), -EINVAL);
	const char *missing[] = {"net", "ipv6", "conf", "nosuchif", "accept_dad"};
	ck_assert_int_eq(nl_sysctl_write(missing, 5, "0", err, sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "write 0 to /proc/sys/net/ipv6/conf/nosuchif/accept_dad: No such "
			      "file or directory");
}
END_TEST

/* ---- route export: a table made to hold exactly a set of routes ---- */

static void expect_table(uint32_t table, const char *const *want, size_t n)
{
	struct nl_route_filter f = {.family = AF_UNSPEC, .table = table};
	struct nl_route *rs;
	size_t got;
	ck_assert_msg(nl_route_list(&hs, &f, &rs, &got, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(got, n);
	for (size_t i = 0; i < n; i++) {
		struct nl_prefix p = P(want[i]);
		int found = 0;
		for (size_t j = 0; j < got; j++)
			found |= nl_prefix_equal(&rs[j].dst, &p);
		ck_assert_msg(found, "%s missing from table %u", want[i], table);
	}
	free(rs);
}

static void sync_table(int oif, const char *const *cidrs, size_t n)
{
	struct nl_route want[8] = {0};
	struct nl_route_set set = {.table = 133, .protocol = 99};
	for (size_t i = 0; i < n; i++)
		want[i] = (struct nl_route){.dst = P(cidrs[i]), .oif = oif};
	ck_assert_msg(nl_route_sync_set(&hs, &set, want, n, err, sizeof(err)) == 0, "%s", err);
}

static void exporter_cases(int oif)
{
	const char *s1[] = {"10.2.0.0/27", "10.3.0.0/31", "fd02::0200/123", "fd02::0300/127"};
	const char *e1[] = {"10.2.0.0/27", "10.3.0.0/31", "fd02::200/123", "fd02::300/127"};
	sync_table(oif, s1, 4);
	expect_table(133, e1, 4);
	const char *s2[] = {"10.2.0.0/27", "fd02::200/123"};
	sync_table(oif, s2, 2);
	expect_table(133, s2, 2);
	const char *s3[] = {"10.2.0.0/27", "10.3.0.0/31", "fd02::300/127"};
	sync_table(oif, s3, 3);
	expect_table(133, s3, 3);
	sync_table(oif, NULL, 0);
	expect_table(133, NULL, 0);
}

START_TEST(route_exporter_via_lo)
{
	struct nl_link lo;
	ck_assert_int_eq(nl_link_get_by_name(&hs, "lo", &lo, err, sizeof(err)), 0);
	exporter_cases(lo.index);

	/* Routes carry proto 99, scope universe, dev lo. */
	const char *one[] = {"10.2.0.0/27"};
	sync_table(lo.index, one, 1);
	struct nl_route_filter f = {.family = AF_INET, .table = 133, .protocol = 99};
	struct nl_route *rs;
	size_t n;
	ck_assert_int_eq(nl_route_list(&hs, &f, &rs, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(rs[0].oif, lo.index);
	ck_assert_uint_eq(rs[0].scope, RT_SCOPE_UNIVERSE);
	ck_assert_uint_eq(rs[0].type, RTN_UNICAST);
	free(rs);

	/* Foreign routes, including a default route and another protocol, are removed. */
	struct nl_route foreign = {.dst = P("0.0.0.0/0"), .table = 133, .oif = lo.index};
	ck_assert_int_eq(nl_route_add(&hs, &foreign, err, sizeof(err)), 0);
	foreign.dst = P("fd99::/64");
	foreign.protocol = 2;
	ck_assert_int_eq(nl_route_add(&hs, &foreign, err, sizeof(err)), 0);
	sync_table(lo.index, one, 1);
	expect_table(133, one, 1);
	sync_table(lo.index, NULL, 0);
}
END_TEST

START_TEST(route_exporter_via_veth)
{
	exporter_cases(make_veth(0));
}
END_TEST

/* ---- the route-set sync engine: ownership, replacing, change reports ---- */

/* Records the changes nl_route_sync_set reports as "what dst" lines joined by ','. */
static void record_change(void *arg, const char *what, const struct nl_route *r)
{
	char *log = arg, dst[NL_PREFIX_STRLEN];
	size_t used = strlen(log);
	snprintf(log + used, 512 - used, "%s%s %s", used ? "," : "", what,
		 nl_prefix_format(&r->dst, dst, sizeof(dst)));
}

static struct nl_route only_route(uint32_t table, int family)
{
	struct nl_route_filter f = {.family = family, .table = table};
	struct nl_route *rs;
	size_t n;
	ck_assert_msg(nl_route_list(&hs, &f, &rs, &n, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(n, 1);
	struct nl_route r = rs[0];
	free(rs);
	return r;
}

START_TEST(route_set_replaces_what_differs)
{
	int veth = make_veth(0);
	struct nl_link lo;
	ck_assert_int_eq(nl_link_get_by_name(&hs, "lo", &lo, err, sizeof(err)), 0);
	/* A wanted destination already there, but via another device and protocol. */
	struct nl_route stale = {.dst = P("10.4.0.0/24"), .table = 134, .oif = veth, .protocol = 2};
	ck_assert_msg(nl_route_add(&hs, &stale, err, sizeof(err)) == 0, "%s", err);
	char log[512] = "";
	struct nl_route_set set = {
	    .table = 134, .protocol = 99, .changed = record_change, .changed_arg = log};
	struct nl_route want = {.dst = P("10.4.0.9/24"), .oif = lo.index};
	ck_assert_msg(nl_route_sync_set(&hs, &set, &want, 1, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(log, "replaced 10.4.0.0/24");
	struct nl_route got = only_route(134, AF_INET);
	ck_assert_int_eq(got.oif, lo.index);
	ck_assert_uint_eq(got.protocol, 99);
	/* Right now: nothing to do, nothing reported. */
	log[0] = '\0';
	ck_assert_msg(nl_route_sync_set(&hs, &set, &want, 1, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(log, "");
}
END_TEST

START_TEST(route_set_own_protocol_only)
{
	int veth = make_veth(0);
	struct nl_route foreign = {
	    .dst = P("10.5.0.0/24"), .table = 135, .oif = veth, .protocol = 2};
	struct nl_route ours = {.dst = P("10.6.0.0/24"), .table = 135, .oif = veth, .protocol = 99};
	ck_assert_msg(nl_route_add(&hs, &foreign, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(nl_route_add(&hs, &ours, err, sizeof(err)) == 0, "%s", err);
	char log[512] = "";
	struct nl_route_set set = {.table = 135,
				   .protocol = 99,
				   .own_protocol_only = true,
				   .changed = record_change,
				   .changed_arg = log};
	struct nl_route want[] = {{.dst = P("fd07::/64"), .oif = veth},
				  {.dst = P("fd07::1/64"), .oif = veth}}; /* a duplicate */
	ck_assert_msg(nl_route_sync_set(&hs, &set, want, 2, err, sizeof(err)) == 0, "%s", err);
	/* Deletions come first, so that a destination can move between gateways. */
	ck_assert_str_eq(log, "deleted 10.6.0.0/24,added fd07::/64");
	struct nl_route v4 = only_route(135, AF_INET), v6 = only_route(135, AF_INET6);
	ck_assert_uint_eq(v4.protocol, 2); /* the foreign route is not ours: left alone */
	ck_assert_uint_eq(v6.protocol, 99);
}
END_TEST

/* ---- dump restarts ---- */

static volatile int churn_stop;

/* Creates and deletes a veth pair in a loop: each bumps the netns's link generation, which
 * makes a concurrent multi-part link dump come back flagged NLM_F_DUMP_INTR. */
static void *churn_links(void *arg)
{
	struct nl_sock s;
	char e[256];
	(void)arg;
	if (nl_sock_open(&s, e, sizeof(e)) < 0)
		return NULL;
	struct nl_veth v = {"churn0", "churn1", -1, 0};
	while (!__atomic_load_n(&churn_stop, __ATOMIC_RELAXED)) {
		nl_veth_create(&s, &v, e, sizeof(e));
		nl_link_delete_by_name(&s, "churn0", e, sizeof(e));
	}
	nl_sock_close(&s);
	return NULL;
}

START_TEST(dump_restarts_when_interrupted)
{
	/* Enough links for a dump of several parts. */
	for (int i = 0; i < 150; i++) {
		char a[IF_NAMESIZE], b[IF_NAMESIZE];
		snprintf(a, sizeof(a), "m%d", i);
		snprintf(b, sizeof(b), "n%d", i);
		struct nl_veth v = {a, b, -1, 0};
		ck_assert_int_eq(nl_veth_create(&hs, &v, err, sizeof(err)), 0);
	}
	churn_stop = 0;
	pthread_t t;
	pthread_create(&t, NULL, churn_links, NULL);
	int ok = 0, interrupted = 0;
	for (int i = 0; i < 1000 && hs.dump_restarts == 0; i++) {
		struct nl_link *l;
		size_t n;
		int rc = nl_link_list(&hs, &l, &n, err, sizeof(err));
		if (rc == 0) {
			ok++;
			/* A restarted dump returns one consistent snapshot, never a mix. */
			ck_assert_msg(n == 301 || n == 303, "%zu links", n);
			free(l);
		} else {
			ck_assert_int_eq(rc, -EINTR);
			interrupted++;
		}
	}
	__atomic_store_n(&churn_stop, 1, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	ck_assert_msg(hs.dump_restarts > 0, "no restart seen (%d ok, %d interrupted)", ok,
		      interrupted);
}
END_TEST

static Suite *nl_suite(void)
{
	Suite *s = suite_create("nl");
	TCase *pure = tcase_create("pure");
	tcase_add_loop_test(pure, prefix_parse_table, 0,
			    sizeof(prefix_cases) / sizeof(prefix_cases[0]));
	tcase_add_test(pure, prefix_mask_clears_host_bits);
	tcase_add_test(pure, ifname_validation);
	suite_add_tcase(s, pure);

	TCase *k = tcase_create("kernel");
	tcase_add_checked_fixture(k, enter_fresh_netns, leave_netns);
	tcase_set_timeout(k, 60);
	tcase_add_test(k, veth_across_namespaces);
	tcase_add_test(k, link_attributes_and_dump);
	tcase_add_test(k, addresses_with_nodad);
	tcase_add_test(k, routes_in_table_116);
	tcase_add_test(k, gateway_routes_and_lookup);
	tcase_add_test(k, rules);
	tcase_add_test(k, netns_run_returns_to_original);
	tcase_add_test(k, netns_switch_is_per_thread);
	tcase_add_test(k, sysctl_paths);
	tcase_add_test(k, route_exporter_via_lo);
	tcase_add_test(k, route_exporter_via_veth);
	tcase_add_test(k, route_set_replaces_what_differs);
	tcase_add_test(k, route_set_own_protocol_only);
	tcase_add_test(k, dump_restarts_when_interrupted);
	suite_add_tcase(s, k);
	return s;
}

int main(void)
{
	if (!testns_is_root()) {
		/* A kernel test that cannot run fails: a skip would read as a pass. */
		fprintf(stderr, "FAIL: this test needs root (network namespaces)\n");
		return 1;
	}
	SRunner *sr = srunner_create(nl_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
