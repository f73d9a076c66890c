/* Kernel-level tests of the FoU tunnel module and the gateway's NAT server, for a kernel
 * that has fou, fou6, ipip, ip6_tunnel and dummy (the QEMU guest: scenario founat_kernel).
 * On a kernel without them every case fails, loudly.
 *
 *   fou_*      Init, listeners, per-peer tunnels with both source-port modes, fallback
 *              devices, DelPeer, one family only;
 *   natserver  Init with the marker, rules per family, client routes, both backends;
 *   e2e_*      client -eth0- gateway -eth1- target in three netns: a TCP upload from the
 *              client reaches the target through the tunnel, seen from the gateway's
 *              address, for IPv4 and IPv6, both backends, both source-port modes. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../unit/nl/testns.h"
#include "egress/egress.h"
#include "founat/founat.h"

static struct nl_ip ip(const char *text)
{
	struct nl_ip out;
	ck_assert_int_eq(nl_ip_parse(text, &out), 0);
	return out;
}

static int orig_ns = -1;

static void remember_ns(void)
{
	if (orig_ns < 0)
		orig_ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(orig_ns, 0);
}

/* A fresh netns, entered; *s is a socket in it. */
static int enter_new_ns(struct nl_sock *s)
{
	remember_ns();
	int fd = testns_new();
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(testns_enter(fd), 0);
	char err[256];
	ck_assert_msg(nl_sock_open(s, err, sizeof(err)) == 0, "%s", err);
	return fd;
}

static void back_home(struct nl_sock *s, int fd)
{
	nl_sock_close(s);
	ck_assert_int_eq(testns_enter(orig_ns), 0);
	close(fd);
}

static void must(int rc, const char *err)
{
	ck_assert_msg(rc == 0, "%s", err);
}

static int link_index(struct nl_sock *s, const char *name)
{
	struct nl_link l;
	char err[256];
	must(nl_link_get_by_name(s, name, &l, err, sizeof(err)), err);
	return l.index;
}

static void add_addr(struct nl_sock *s, const char *ifname, const char *cidr)
{
	struct nl_addr a = {.ifindex = link_index(s, ifname), .flags = IFA_F_NODAD};
	ck_assert_int_eq(nl_prefix_parse(cidr, &a.local), 0);
	char err[256];
	must(nl_addr_add(s, &a, err, sizeof(err)), err);
}

static void up(struct nl_sock *s, const char *ifname)
{
	char err[256];
	must(nl_link_set_up(s, link_index(s, ifname), true, err, sizeof(err)), err);
}

/* The netns of the FoU module tests: dummy1 up with 10.1.1.0/24 and fd02::100/120. */
static int fou_ns(struct nl_sock *s)
{
	int fd = enter_new_ns(s);
	char err[256];
	must(nl_dummy_create(s, "dummy1", err, sizeof(err)), err);
	add_addr(s, "dummy1", "10.1.1.0/24");
	add_addr(s, "dummy1", "fd02::100/120");
	up(s, "dummy1");
	return fd;
}

static void assert_tunnel(struct nl_sock *s, const char *peer, const char *kind, const char *local,
			  uint16_t sport)
{
	char name[FOUNAT_NAME_LEN], err[256];
	struct nl_ip p = ip(peer), l = ip(local);
	ck_assert_int_eq(founat_link_name(&p, name, sizeof(name)), 0);
	struct nl_iptun_info t;
	must(nl_iptun_get(s, name, &t, err, sizeof(err)), err);
	ck_assert_str_eq(t.link.kind, kind);
	ck_assert(nl_ip_equal(&t.remote, &p));
	ck_assert(nl_ip_equal(&t.local, &l));
	ck_assert_uint_eq(t.encap_type, FOUNAT_ENCAP_FOU);
	ck_assert_uint_eq(t.encap_dport, 5555);
	ck_assert_uint_eq(t.encap_sport, sport);
	ck_assert_uint_eq(t.ttl, 225);
	const char *fb = strcmp(kind, "ipip") == 0 ? FOUNAT_FALLBACK4 : FOUNAT_FALLBACK6;
	struct nl_iptun_info f;
	must(nl_iptun_get(s, fb, &f, err, sizeof(err)), err);
	ck_assert_msg(f.collect_metadata, "%s is not flow-based", fb);
	ck_assert_msg(f.link.flags & IFF_UP, "%s is down", fb);
}

static size_t fou_ports(void)
{
	struct founat_listener *l = NULL;
	size_t n = 0;
	char err[256];
	must(founat_fou_list(&l, &n, err, sizeof(err)), err);
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(l[i].port, 5555);
	free(l);
	return n;
}

static size_t links_with_prefix(struct nl_sock *s, const char *prefix)
{
	struct nl_link *links = NULL;
	size_t n = 0, hits = 0;
	char err[256];
	must(nl_link_list(s, &links, &n, err, sizeof(err)), err);
	for (size_t i = 0; i < n; i++)
		hits += strncmp(links[i].name, prefix, strlen(prefix)) == 0;
	free(links);
	return hits;
}

START_TEST(fou_dual_stack)
{
	struct nl_sock s;
	int fd = fou_ns(&s);
	char err[256];
	struct founat_config c = {.port = 5555, .local4 = ip("127.0.0.1"), .local6 = ip("::1")};
	bool done = true;
	must(founat_is_initialized(&s, &done, err, sizeof(err)), err);
	ck_assert(!done);
	must(founat_init(&s, &c, err, sizeof(err)), err);
	must(founat_is_initialized(&s, &done, err, sizeof(err)), err);
	ck_assert(done);
	must(founat_init(&s, &c, err, sizeof(err)), err);
	ck_assert_uint_eq(fou_ports(), 2);
	/* A crash between the listeners and the marker must not wedge the netns. */
	struct founat_listener again = {.family = AF_INET, .ipproto = 4, .port = 5555};
	must(founat_fou_add(&again, err, sizeof(err)), err);

	struct nl_ip p4 = ip("10.1.1.1"), p6 = ip("fd02::101");
	struct nl_link l1, l2;
	must(founat_add_peer(&s, &c, &p4, false, &l1, err, sizeof(err)), err);
	assert_tunnel(&s, "10.1.1.1", "ipip", "127.0.0.1", 5555);
	must(founat_add_peer(&s, &c, &p4, false, &l2, err, sizeof(err)), err);
	ck_assert_int_eq(l1.index, l2.index); /* same mode: kept */
	must(founat_add_peer(&s, &c, &p4, true, &l2, err, sizeof(err)), err);
	assert_tunnel(&s, "10.1.1.1", "ipip", "127.0.0.1", 0);
	ck_assert_int_ne(l1.index, l2.index); /* mode changed: recreated */
	/* The kernel's own fallback device is renamed when it exists. */
	struct nl_link tunl;
	ck_assert_int_eq(nl_link_get_by_name(&s, FOUNAT_KERNEL_FB4, &tunl, NULL, 0), -ENODEV);

	must(founat_add_peer(&s, &c, &p6, false, NULL, err, sizeof(err)), err);
	assert_tunnel(&s, "fd02::101", "ip6tnl", "::1", 5555);
	must(founat_add_peer(&s, &c, &p6, true, NULL, err, sizeof(err)), err);
	assert_tunnel(&s, "fd02::101", "ip6tnl", "::1", 0);

	must(founat_del_peer(&s, &p4, err, sizeof(err)), err);
	ck_assert_uint_eq(links_with_prefix(&s, FOUNAT_PREFIX4), 0);
	must(founat_del_peer(&s, &p4, err, sizeof(err)), err); /* gone already: fine */
	ck_assert_uint_eq(links_with_prefix(&s, FOUNAT_PREFIX6), 1);
	back_home(&s, fd);
}
END_TEST

START_TEST(fou_single_family)
{
	for (int v6 = 0; v6 < 2; v6++) {
		struct nl_sock s;
		int fd = fou_ns(&s);
		char err[256];
		struct founat_config c = {.port = 5555};
		if (v6)
			c.local6 = ip("::1");
		else
			c.local4 = ip("127.0.0.1");
		must(founat_init(&s, &c, err, sizeof(err)), err);
		ck_assert_uint_eq(fou_ports(), 1);
		struct nl_ip p4 = ip("10.1.1.1"), p6 = ip("fd02::101");
		int rc4 = founat_add_peer(&s, &c, &p4, true, NULL, err, sizeof(err));
		int rc6 = founat_add_peer(&s, &c, &p6, true, NULL, err, sizeof(err));
		ck_assert_int_eq(v6 ? rc4 : rc6, FOUNAT_EFAMILY);
		ck_assert_msg((v6 ? rc6 : rc4) == 0, "%s", err);
		if (v6)
			assert_tunnel(&s, "fd02::101", "ip6tnl", "::1", 0);
		else
			assert_tunnel(&s, "10.1.1.1", "ipip", "127.0.0.1", 0);
		back_home(&s, fd);
	}
}
END_TEST

static size_t rules_2000(struct nl_sock *s, int family, const char *iif)
{
	struct nl_rule *rules = NULL;
	size_t n = 0, hits = 0;
	ck_assert_int_eq(nl_rule_list(s, family, &rules, &n, NULL, 0), 0);
	for (size_t i = 0; i < n; i++)
		hits += rules[i].priority == 2000 && rules[i].table == 118 &&
			strcmp(rules[i].iif, iif) == 0;
	free(rules);
	return hits;
}

static size_t table118(struct nl_sock *s, int family)
{
	struct nl_route_filter f = {.family = family, .table = 118};
	struct nl_route *r = NULL;
	size_t n = 0;
	ck_assert_int_eq(nl_route_list(s, &f, &r, &n, NULL, 0), 0);
	free(r);
	return n;
}

START_TEST(natserver)
{
	static const enum natrules_backend backends[] = {NATRULES_IPTABLES, NATRULES_NFTABLES};
	static const bool fams[][2] = {{true, true}, {true, false}, {false, true}};
	for (int b = 0; b < 2; b++)
		for (int f = 0; f < 3; f++) {
			struct nl_sock s;
			int fd = enter_new_ns(&s);
			char err[512];
			struct egress_natserver n = {.oif = "lo", .backend = backends[b]};
			if (fams[f][0])
				n.local4 = ip("127.0.0.1");
			if (fams[f][1])
				n.local6 = ip("::1");
			must(egress_natserver_init(&s, &n, err, sizeof(err)), err);
			must(egress_natserver_init(&s, &n, err, sizeof(err)), err);
			link_index(&s, EGRESS_MARKER);
			ck_assert_uint_eq(rules_2000(&s, AF_INET, "lo"), fams[f][0]);
			ck_assert_uint_eq(rules_2000(&s, AF_INET6, "lo"), fams[f][1]);
			must(nl_dummy_create(&s, "client", err, sizeof(err)), err);
			up(&s, "client");
			struct nl_link link;
			must(nl_link_get_by_name(&s, "client", &link, err, sizeof(err)), err);
			struct nl_ip c4 = ip("10.1.2.3"), c6 = ip("fd02::1");
			for (int twice = 0; twice < 2; twice++) {
				ck_assert_int_eq(egress_natserver_add_client(&s, &n, &c4, &link,
									     err, sizeof(err)),
						 fams[f][0] ? 0 : FOUNAT_EFAMILY);
				ck_assert_int_eq(egress_natserver_add_client(&s, &n, &c6, &link,
									     err, sizeof(err)),
						 fams[f][1] ? 0 : FOUNAT_EFAMILY);
			}
			ck_assert_uint_eq(table118(&s, AF_INET), fams[f][0]);
			ck_assert_uint_eq(table118(&s, AF_INET6), fams[f][1]);
			back_home(&s, fd);
		}
}
END_TEST

/* ---- end to end ---- */

struct trio {
	int client, gateway, target; /* netns fds */
};

static void veth(int from_ns, const char *name, int peer_ns, const char *peer)
{
	struct nl_sock s;
	char err[256];
	must(nl_sock_open_in(&s, from_ns, err, sizeof(err)), err);
	struct nl_veth v = {.name = name, .peer_name = peer, .peer_netns_fd = peer_ns};
	must(nl_veth_create(&s, &v, err, sizeof(err)), err);
	nl_sock_close(&s);
}

static void configure(int ns, const char *ifname, const char *a4, const char *a6)
{
	struct nl_sock s;
	char err[256];
	ck_assert_int_eq(testns_enter(ns), 0);
	must(nl_sock_open(&s, err, sizeof(err)), err);
	add_addr(&s, ifname, a4);
	add_addr(&s, ifname, a6);
	up(&s, ifname);
	nl_sock_close(&s);
}

static struct trio make_trio(void)
{
	remember_ns();
	struct trio t = {testns_new(), testns_new(), testns_new()};
	ck_assert(t.client >= 0 && t.gateway >= 0 && t.target >= 0);
	veth(t.gateway, "eth0", t.client, "eth0");
	veth(t.gateway, "eth1", t.target, "eth0");
	configure(t.client, "eth0", "10.1.1.2/24", "fd01::102/120");
	configure(t.gateway, "eth0", "10.1.1.1/24", "fd01::101/120");
	configure(t.gateway, "eth1", "10.1.3.2/24", "fd01::302/120");
	configure(t.target, "eth0", "10.1.3.1/24", "fd01::301/120");
	ck_assert_int_eq(testns_enter(orig_ns), 0);
	return t;
}

static void free_trio(struct trio *t)
{
	ck_assert_int_eq(testns_enter(orig_ns), 0);
	close(t->client);
	close(t->gateway);
	close(t->target);
}

/* Client side as the NAT client sets it up, reduced to what the gateway's test needs: the
 * tunnel to the gateway, up, and the target's subnet routed into it. */
static void setup_client(int ns, bool sport_auto)
{
	struct nl_sock s;
	char err[256];
	ck_assert_int_eq(testns_enter(ns), 0);
	must(nl_sock_open(&s, err, sizeof(err)), err);
	struct founat_config c = {
	    .port = 5555, .local4 = ip("10.1.1.2"), .local6 = ip("fd01::102")};
	must(founat_init(&s, &c, err, sizeof(err)), err);
	static const char *const peers[] = {"10.1.1.1", "fd01::101"};
	static const char *const dsts[] = {"10.1.3.0/24", "fd01::300/120"};
	for (int i = 0; i < 2; i++) {
		struct nl_ip peer = ip(peers[i]);
		struct nl_link link;
		must(founat_add_peer(&s, &c, &peer, sport_auto, &link, err, sizeof(err)), err);
		must(nl_link_set_up(&s, link.index, true, err, sizeof(err)), err);
		struct nl_route r = {.oif = link.index, .protocol = 30};
		ck_assert_int_eq(nl_prefix_parse(dsts[i], &r.dst), 0);
		must(nl_route_add(&s, &r, err, sizeof(err)), err);
	}
	nl_sock_close(&s);
}

static void setup_gateway(int ns, enum natrules_backend backend, bool sport_auto)
{
	struct nl_sock s;
	char err[512];
	ck_assert_int_eq(testns_enter(ns), 0);
	must(nl_sock_open(&s, err, sizeof(err)), err);
	struct founat_config c = {
	    .port = 5555, .local4 = ip("10.1.1.1"), .local6 = ip("fd01::101")};
	must(founat_init(&s, &c, err, sizeof(err)), err);
	struct egress_natserver n = {
	    .local4 = c.local4, .local6 = c.local6, .oif = "eth1", .backend = backend};
	must(egress_natserver_init(&s, &n, err, sizeof(err)), err);
	static const char *const clients[] = {"10.1.1.2", "fd01::102"};
	for (int i = 0; i < 2; i++) {
		struct nl_ip client = ip(clients[i]);
		struct nl_link link;
		must(founat_add_peer(&s, &c, &client, sport_auto, &link, err, sizeof(err)), err);
		must(egress_natserver_add_client(&s, &n, &client, &link, err, sizeof(err)), err);
	}
	nl_sock_close(&s);
}

static int socket_in(int ns, int family)
{
	ck_assert_int_eq(testns_enter(ns), 0);
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	return fd;
}

static socklen_t sockaddr_of(const char *addr, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		return sizeof(*a4);
	}
	ck_assert_int_eq(inet_pton(AF_INET6, addr, &a6->sin6_addr), 1);
	a6->sin6_family = AF_INET6;
	a6->sin6_port = htons(port);
	return sizeof(*a6);
}

static void wait_fd(int fd, short events)
{
	struct pollfd p = {.fd = fd, .events = events};
	ck_assert_msg(poll(&p, 1, 5000) == 1, "timed out (5 s) waiting on the connection");
}

#define UPLOAD (1 << 20)

/* Uploads 1 MiB from the client to the target's port 80 and returns the source address the
 * target saw. */
static void upload(const struct trio *t, const char *target, char *seen, size_t seenlen)
{
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_of(target, 80, &ss);
	int family = ss.ss_family;
	int lsock = socket_in(t->target, family);
	int one = 1;
	setsockopt(lsock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ck_assert_int_eq(bind(lsock, (struct sockaddr *)&ss, len), 0);
	ck_assert_int_eq(listen(lsock, 1), 0);
	int csock = socket_in(t->client, family);
	fcntl(csock, F_SETFL, O_NONBLOCK);
	int rc = connect(csock, (struct sockaddr *)&ss, len);
	ck_assert(rc == 0 || errno == EINPROGRESS);
	wait_fd(lsock, POLLIN);
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	int asock = accept4(lsock, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC | SOCK_NONBLOCK);
	ck_assert_int_ge(asock, 0);
	const void *addr = family == AF_INET
			       ? (const void *)&((struct sockaddr_in *)&peer)->sin_addr
			       : (const void *)&((struct sockaddr_in6 *)&peer)->sin6_addr;
	inet_ntop(family, addr, seen, (socklen_t)seenlen);
	static char buf[65536];
	size_t sent = 0, got = 0;
	while (got < UPLOAD) {
		if (sent < UPLOAD) {
			ssize_t n = write(
			    csock, buf, sizeof(buf) < UPLOAD - sent ? sizeof(buf) : UPLOAD - sent);
			if (n > 0)
				sent += (size_t)n;
		}
		struct pollfd p = {.fd = asock, .events = POLLIN};
		ck_assert_msg(poll(&p, 1, 5000) == 1, "upload stalled at %zu bytes", got);
		ssize_t n = read(asock, buf, sizeof(buf));
		ck_assert_int_gt(n, 0);
		got += (size_t)n;
	}
	close(asock);
	close(csock);
	close(lsock);
	ck_assert_int_eq(testns_enter(orig_ns), 0);
}

static void e2e(enum natrules_backend backend, bool sport_auto)
{
	struct trio t = make_trio();
	setup_gateway(t.gateway, backend, sport_auto);
	setup_client(t.client, sport_auto);
	char seen[INET6_ADDRSTRLEN];
	/* The target has no route back to the client: only the masquerade makes replies
	 * possible, and the source it sees is the gateway's. */
	upload(&t, "10.1.3.1", seen, sizeof(seen));
	ck_assert_str_eq(seen, "10.1.3.2");
	upload(&t, "fd01::301", seen, sizeof(seen));
	ck_assert_str_eq(seen, "fd01::302");
	ck_assert_int_eq(testns_enter(t.gateway), 0);
	struct natrules_counter c;
	char err[256];
	must(natrules_nft_first_counter(AF_INET, "nat", "POSTROUTING", &c, err, sizeof(err)), err);
	ck_assert_uint_gt(c.packets, 0);
	must(natrules_nft_first_counter(AF_INET6, "nat", "POSTROUTING", &c, err, sizeof(err)), err);
	ck_assert_uint_gt(c.packets, 0);
	struct egress_conntrack ct;
	must(egress_conntrack_stats(&ct, err, sizeof(err)), err);
	ck_assert_uint_gt(ct.max, 0);
	free_trio(&t);
}

START_TEST(e2e_iptables_sport_auto)
{
	e2e(NATRULES_IPTABLES, true);
}
END_TEST

START_TEST(e2e_iptables_sport_fixed)
{
	e2e(NATRULES_IPTABLES, false);
}
END_TEST

START_TEST(e2e_nftables_sport_auto)
{
	e2e(NATRULES_NFTABLES, true);
}
END_TEST

START_TEST(e2e_nftables_sport_fixed)
{
	e2e(NATRULES_NFTABLES, false);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("founat kernel");
	TCase *tc = tcase_create("kernel");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, fou_dual_stack);
	tcase_add_test(tc, fou_single_family);
	tcase_add_test(tc, natserver);
	tcase_add_test(tc, e2e_iptables_sport_auto);
	tcase_add_test(tc, e2e_iptables_sport_fixed);
	tcase_add_test(tc, e2e_nftables_sport_auto);
	tcase_add_test(tc, e2e_nftables_sport_fixed);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_VERBOSE);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
