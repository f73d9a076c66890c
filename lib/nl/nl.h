/* Route netlink on libmnl: links, veth pairs, addresses, routes, rules, netns switching
 * and sysctls, for the node daemon's pod network and route export. Never execs `ip`.
 *
 * Conventions: every function that talks to the kernel takes a struct nl_sock (one per
 * thread and netns; a socket stays bound to the netns it was opened in) and returns 0 or a
 * negative errno, writing "<what was done to which object>: <kernel's answer>" into the
 * caller's err buffer, e.g. "add route 10.1.2.3/32 table 116: File exists". */
#ifndef COIL_NL_H
#define COIL_NL_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mnl_socket;
struct nlmsghdr;

/* ---- sockets (socket.c) ---- */

/* One rtnetlink socket. Not thread-safe: use one per thread (and per netns). */
struct nl_sock {
	struct mnl_socket *mnl; /* owned */
	uint32_t portid;
	uint32_t seq;		/* sequence number of the last request sent */
	char *buf;		/* owned receive buffer of NL_RECV_BUF bytes */
	unsigned dump_restarts; /* statistics: dumps restarted after NLM_F_DUMP_INTR */
};

#define NL_RECV_BUF 65536
/* An interrupted dump (NLM_F_DUMP_INTR: links or addresses changed while it ran) is
 * restarted after a back-off that starts at NL_DUMP_BACKOFF_US, doubles up to
 * NL_DUMP_BACKOFF_MAX_US and has random jitter, so that dumps racing the same churn spread
 * out; it fails only when no consistent dump was had within NL_DUMP_RETRY_MS. A node with
 * hundreds of pods being created and deleted at once interrupts most dumps. */
#define NL_DUMP_BACKOFF_US     200
#define NL_DUMP_BACKOFF_MAX_US 20000
#define NL_DUMP_RETRY_MS       15000

/* Opens a socket in the calling thread's current netns. */
int nl_sock_open(struct nl_sock *s, char *err, size_t errlen);
/* Opens a socket bound to the netns open as netns_fd (switches the thread there and back). */
int nl_sock_open_in(struct nl_sock *s, int netns_fd, char *err, size_t errlen);
/* Closes and frees what the socket owns; safe on a zeroed or already closed socket. */
void nl_sock_close(struct nl_sock *s);

/* ---- addresses as values (prefix.c) ---- */

/* An IPv4 or IPv6 address; family 0 means "none". bytes are in network order. */
struct nl_ip {
	int family; /* AF_INET, AF_INET6 or 0 */
	unsigned char bytes[16];
};

/* An address with a prefix length (a CIDR). */
struct nl_prefix {
	struct nl_ip ip;
	unsigned char len;
};

#define NL_IP_STRLEN	 46 /* INET6_ADDRSTRLEN */
#define NL_PREFIX_STRLEN 50

/* Parses "10.1.2.3" or "fd02::1"; 0 or -EINVAL. */
int nl_ip_parse(const char *text, struct nl_ip *out);
/* Parses "10.1.2.0/24"; without "/len" the full length is taken. 0 or -EINVAL. */
int nl_prefix_parse(const char *text, struct nl_prefix *out);
/* Writes the canonical text ("" for family 0) into buf (>= NL_IP_STRLEN bytes). */
const char *nl_ip_format(const struct nl_ip *ip, char *buf, size_t buflen);
/* Writes "addr/len" into buf (>= NL_PREFIX_STRLEN bytes). */
const char *nl_prefix_format(const struct nl_prefix *p, char *buf, size_t buflen);
/* Clears the host bits (10.2.0.1/24 -> 10.2.0.0/24). */
void nl_prefix_mask(struct nl_prefix *p);
bool nl_ip_equal(const struct nl_ip *a, const struct nl_ip *b);
bool nl_prefix_equal(const struct nl_prefix *a, const struct nl_prefix *b);
/* Address length in bytes for family: 4, 16 or 0. */
size_t nl_family_addrlen(int family);
/* A host prefix of ip: /32 or /128. */
struct nl_prefix nl_prefix_host(const struct nl_ip *ip);

/* ---- links (link.c, veth.c) ---- */

#define NL_ALIAS_MAX 256 /* IFALIASZ */
#define NL_MAC_MAX   32	 /* MAX_ADDR_LEN */

struct nl_link {
	int index;
	char name[IF_NAMESIZE];
	char alias[NL_ALIAS_MAX]; /* IFLA_IFALIAS; "" when none */
	char kind[32];		  /* IFLA_INFO_KIND; "" for plain devices */
	unsigned mtu;
	unsigned flags;		 /* IFF_* */
	unsigned char operstate; /* IF_OPER_* */
	unsigned char mac[NL_MAC_MAX];
	size_t mac_len;
	bool peer_in_other_netns; /* IFLA_LINK_NETNSID: a veth whose peer lives elsewhere */
	int32_t peer_netnsid;	  /* its value (the peer's netns id as seen from here) */
};

/* Writes "aa:bb:cc:dd:ee:ff" (lowercase) into buf (>= 3 * NL_MAC_MAX bytes is always enough). */
const char *nl_mac_format(const unsigned char *mac, size_t len, char *buf, size_t buflen);

/* Lookups by name or index; a missing link is -ENODEV. */
int nl_link_get_by_name(struct nl_sock *s, const char *name, struct nl_link *out, char *err,
			size_t errlen);
int nl_link_get_by_index(struct nl_sock *s, int index, struct nl_link *out, char *err,
			 size_t errlen);
/* Dumps all links into *out (caller frees with free()); *count = number of links. */
int nl_link_list(struct nl_sock *s, struct nl_link **out, size_t *count, char *err, size_t errlen);
int nl_link_set_up(struct nl_sock *s, int index, bool up, char *err, size_t errlen);
int nl_link_set_mtu(struct nl_sock *s, int index, unsigned mtu, char *err, size_t errlen);
int nl_link_set_alias(struct nl_sock *s, int index, const char *alias, char *err, size_t errlen);
/* Renames a link (the kernel requires it to be down). */
int nl_link_rename(struct nl_sock *s, int index, const char *name, char *err, size_t errlen);
int nl_link_delete(struct nl_sock *s, int index, char *err, size_t errlen);
int nl_link_delete_by_name(struct nl_sock *s, const char *name, char *err, size_t errlen);
/* Takes a link out of service in one request (so no kill can leave it half done): link
 * group `group`, alias `alias`, and down (which makes the kernel drop its routes). */
int nl_link_retire(struct nl_sock *s, int index, uint32_t group, const char *alias, char *err,
		   size_t errlen);
/* Deletes every link of group `group` (non-zero) in one request, so the kernel waits for
 * its RCU grace period once for all of them. No link in the group is -ENODEV. */
int nl_link_delete_group(struct nl_sock *s, uint32_t group, char *err, size_t errlen);

/* A veth pair created in one request: `name` in the socket's netns and `peer_name` directly
 * in the netns open as peer_netns_fd (-1: the same netns). mtu 0 = kernel default. Both
 * ends start down with kernel-generated MACs. An existing name on either side is -EEXIST. */
struct nl_veth {
	const char *name;
	const char *peer_name;
	int peer_netns_fd;
	unsigned mtu;
};
int nl_veth_create(struct nl_sock *s, const struct nl_veth *veth, char *err, size_t errlen);

/* True if name is a valid interface name (1..15 bytes, no '/', ':', or whitespace,
 * not "." or ".."). */
bool nl_ifname_valid(const char *name);

/* ---- addresses (addr.c) ---- */

struct nl_addr {
	int ifindex;
	struct nl_prefix local;
	unsigned char scope; /* RT_SCOPE_* (0 = universe/global, 253 = link) */
	uint32_t flags;	     /* IFA_F_* (IFA_F_NODAD on add; TENTATIVE, DADFAILED on dump) */
};

int nl_addr_add(struct nl_sock *s, const struct nl_addr *a, char *err, size_t errlen);
int nl_addr_del(struct nl_sock *s, const struct nl_addr *a, char *err, size_t errlen);
/* Dumps addresses of family (AF_UNSPEC: both) on ifindex (0: all links); caller frees *out. */
int nl_addr_list(struct nl_sock *s, int family, int ifindex, struct nl_addr **out, size_t *count,
		 char *err, size_t errlen);

/* ---- routes (route.c, routesync.c) ---- */

struct nl_route {
	struct nl_prefix dst; /* dst.ip.family is the route's family; len 0 = default route */
	struct nl_ip gateway; /* family 0 = none */
	struct nl_ip prefsrc; /* family 0 = none */
	uint32_t table;	      /* 0 on add = main */
	uint32_t priority;    /* metric; 0 = none */
	int oif;	      /* 0 = none */
	unsigned char protocol, scope, type; /* type 0 on add = RTN_UNICAST */
};

/* Route filter for nl_route_list; zero fields match everything. */
struct nl_route_filter {
	int family; /* AF_INET, AF_INET6 or AF_UNSPEC (both, dumped one after the other) */
	uint32_t table;
	unsigned char protocol;
	int oif;
};

int nl_route_add(struct nl_sock *s, const struct nl_route *r, char *err, size_t errlen);
int nl_route_replace(struct nl_sock *s, const struct nl_route *r, char *err, size_t errlen);
int nl_route_del(struct nl_sock *s, const struct nl_route *r, char *err, size_t errlen);
/* Dumps routes matching f (cached/cloned routes excluded); caller frees *out. */
int nl_route_list(struct nl_sock *s, const struct nl_route_filter *f, struct nl_route **out,
		  size_t *count, char *err, size_t errlen);
/* RTM_GETROUTE for one destination: the route the kernel would use (oif, gateway...). */
int nl_route_get(struct nl_sock *s, const struct nl_ip *dst, struct nl_route *out, char *err,
		 size_t errlen);

/* Which routes of a table nl_route_sync_set owns, and how it writes them. */
struct nl_route_set {
	uint32_t table;
	/* Routes are written with this protocol. With own_protocol_only, only the table's
	 * routes of this protocol are ours and the others are never touched; without it every
	 * route of the table is ours, and an unwanted one is deleted whatever its protocol. */
	unsigned char protocol;
	bool own_protocol_only;
	/* Told of each change made ("added", "replaced", "deleted"), e.g. to log it; or NULL. */
	void (*changed)(void *arg, const char *what, const struct nl_route *r);
	void *changed_arg;
};

/* Makes our routes of set->table (IPv4 and IPv6) equal to want[0..n), each written with its
 * dst (host bits ignored), gateway and oif (0: none), set's table and protocol, scope
 * universe, type unicast. A route is identified by its destination (a kernel route without
 * RTA_DST counts as 0.0.0.0/0 or ::/0); of several wanted routes with one destination the
 * first counts. Ours but not wanted, or a second route to a wanted destination: deleted,
 * first, so that a destination can move to another gateway. Wanted but missing: added.
 * Present but with another gateway, oif (when want sets one) or protocol: replaced in place.
 * The first kernel error aborts. The caller serializes calls per table. */
int nl_route_sync_set(struct nl_sock *s, const struct nl_route_set *set,
		      const struct nl_route *want, size_t n, char *err, size_t errlen);

/* ---- policy rules (rule.c) ---- */

struct nl_rule {
	int family; /* AF_INET or AF_INET6 */
	bool has_priority;
	uint32_t priority;
	uint32_t table;	      /* lookup table */
	struct nl_prefix src; /* "from"; family 0 = all */
	struct nl_prefix dst; /* "to"; family 0 = all */
	char iif[IF_NAMESIZE];
	bool has_fwmark;
	uint32_t fwmark, fwmask; /* fwmask 0 on add = exact match (0xffffffff) */
};

int nl_rule_add(struct nl_sock *s, const struct nl_rule *r, char *err, size_t errlen);
int nl_rule_del(struct nl_sock *s, const struct nl_rule *r, char *err, size_t errlen);
/* Dumps rules of family (AF_INET or AF_INET6); caller frees *out. */
int nl_rule_list(struct nl_sock *s, int family, struct nl_rule **out, size_t *count, char *err,
		 size_t errlen);

/* ---- IP tunnels and dummy links (iptun.c) ---- */

/* An ipip (IPv4) or ip6tnl (IPv6) link. Per-peer tunnels carry local/remote and UDP encap
 * options; a collect_metadata ("external", flow-based) device carries nothing else. Links
 * are created down. */
struct nl_iptun {
	const char *name;
	const char *kind; /* "ipip" or "ip6tnl" */
	bool collect_metadata;
	struct nl_ip local, remote;
	uint8_t ttl;
	uint16_t encap_type;		   /* TUNNEL_ENCAP_* (1 = FOU) */
	uint16_t encap_sport, encap_dport; /* host order; sport 0 = per-flow */
};

/* A tunnel link as the kernel reports it. */
struct nl_iptun_info {
	struct nl_link link;
	struct nl_ip local, remote;
	uint8_t ttl;
	uint16_t encap_type, encap_sport, encap_dport; /* host order */
	bool collect_metadata;
};

int nl_iptun_create(struct nl_sock *s, const struct nl_iptun *t, char *err, size_t errlen);
/* -ENODEV if no link of that name. Other kinds are read too (tunnel fields stay zero). */
int nl_iptun_get(struct nl_sock *s, const char *name, struct nl_iptun_info *out, char *err,
		 size_t errlen);
int nl_parse_iptun(const struct nlmsghdr *nlh, struct nl_iptun_info *out);
/* A dummy link (down). */
int nl_dummy_create(struct nl_sock *s, const char *name, char *err, size_t errlen);

/* ---- network namespaces (netns.c) ---- */

/* Opens path (e.g. /var/run/netns/cni-..., /proc/PID/ns/net) and checks that it is a network
 * namespace (fstatfs: nsfs or procfs; NS_GET_NSTYPE: net), else -EINVAL "not a network
 * namespace"; *fd is O_CLOEXEC and owned by the caller. */
int nl_netns_open(const char *path, int *fd, char *err, size_t errlen);
/* Whether fd (one received from another process, say) is a network namespace: 0, or -EINVAL
 * ("not a network namespace") / -errno with err filled. */
int nl_netns_check(int fd, char *err, size_t errlen);
/* Opens the calling thread's current netns. */
int nl_netns_current(int *fd, char *err, size_t errlen);
/* Runs fn(arg) with the calling thread inside netns_fd and always switches it back before
 * returning. Only this thread moves, so other threads are unaffected. Returns fn's result,
 * or a negative errno if switching failed (fn not run, or run but return failed). */
int nl_netns_run(int netns_fd, int (*fn)(void *arg), void *arg, char *err, size_t errlen);

/* The id the netns of s gives the netns open as netns_fd (RTM_GETNSID); -ENOENT when it has
 * given it none (the kernel assigns one once a link pairs the two, e.g. a veth). */
int nl_netns_id(struct nl_sock *s, int netns_fd, int32_t *nsid, char *err, size_t errlen);

/* ---- sysctl (sysctl.c) ---- */

/* Writes value to /proc/sys/<parts[0]>/<parts[1]>/... of the calling thread's netns.
 * Each part must be non-empty and contain neither '/' nor "..". */
int nl_sysctl_write(const char *const *parts, size_t nparts, const char *value, char *err,
		    size_t errlen);
/* Reads the value (trailing newline removed) into buf. */
int nl_sysctl_read(const char *const *parts, size_t nparts, char *buf, size_t buflen, char *err,
		   size_t errlen);

/* ---- raw requests (socket.c, genl.c): for netlink families lib/nl has no API for, such as
 * generic netlink families (fou) and nfnetlink (conntrack statistics) ---- */

/* Size of request buffers; every request we build is far smaller. */
#define NL_SEND_BUF 4096

/* Opens a socket of another netlink protocol (NETLINK_GENERIC, NETLINK_NETFILTER) in the
 * calling thread's netns; used with the raw requests below. */
int nl_sock_open_proto(struct nl_sock *s, int protocol, char *err, size_t errlen);

typedef int (*nl_msg_cb)(const struct nlmsghdr *nlh, void *arg);

/* Starts a request of type in buf (NL_SEND_BUF bytes, zeroed here) with NLM_F_REQUEST|flags.
 * The sequence number is assigned when the request is sent. */
struct nlmsghdr *nl_msg_start(void *buf, uint16_t type, uint16_t flags);

/* Sends a request that expects only an acknowledgement (NLM_F_ACK is added). */
int nl_exec(struct nl_sock *s, struct nlmsghdr *req, const char *what, char *err, size_t errlen);

/* Sends a non-dump request and calls cb for each reply before the acknowledgement. */
int nl_query(struct nl_sock *s, struct nlmsghdr *req, nl_msg_cb cb, void *arg, const char *what,
	     char *err, size_t errlen);

/* Sends a dump request (NLM_F_DUMP is added) and calls cb for each message. If the kernel
 * flags the dump as interrupted (NLM_F_DUMP_INTR), reset(arg) is called and the dump is
 * restarted with a growing, jittered back-off until NL_DUMP_RETRY_MS have passed; then
 * -EINTR (nl.h). */
int nl_dump(struct nl_sock *s, struct nlmsghdr *req, nl_msg_cb cb, void *arg,
	    void (*reset)(void *arg), const char *what, char *err, size_t errlen);

/* The id of the generic netlink family name (CTRL_CMD_GETFAMILY) on a NETLINK_GENERIC
 * socket; -ENOENT when the kernel has no such family (e.g. its module is not loaded). */
int nl_genl_family_id(struct nl_sock *s, const char *name, uint16_t *id, char *err, size_t errlen);

/* ---- message parsing (parse.c; exposed for tests and fuzzing) ---- */

/* True if a whole message of at least a header starts at nlh with `left` bytes remaining.
 * (libmnl's mnl_nlmsg_ok casts nlmsg_len to int and accepts lengths >= 2^31.) */
bool nl_msg_ok(const struct nlmsghdr *nlh, size_t left);
/* The message after nlh; *left shrinks accordingly (to 0 past the end). */
const struct nlmsghdr *nl_msg_next(const struct nlmsghdr *nlh, size_t *left);

/* Each returns 0, or -EINVAL if nlh is not a well-formed message of that kind (the NEW or,
 * for notifications of deletions, the DEL message type). */
int nl_parse_link(const struct nlmsghdr *nlh, struct nl_link *out);
int nl_parse_addr(const struct nlmsghdr *nlh, struct nl_addr *out);
int nl_parse_route(const struct nlmsghdr *nlh, struct nl_route *out);
int nl_parse_rule(const struct nlmsghdr *nlh, struct nl_rule *out);

#endif
