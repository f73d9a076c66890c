/* Foo-over-UDP tunnels, the transport of Coil's egress NAT. The same module runs in a gateway
 * pod (peers = client pod IPs) and in each client pod (peers = the Egress Service's
 * ClusterIPs); both sides name links the same way and delete them by name, so the names are
 * part of the contract with upstream Coil:
 *
 *   fou4_<8 hex>   IPv4 peer: the 4 address bytes            (kind ipip)
 *   fou6_<8 hex>   IPv6 peer: first 4 bytes of SHA-1(addr)   (kind ip6tnl)
 *   fou-dummy      marker: this netns has been initialised (FoU listeners, sysctls)
 *   coil_ipip4/6   collect-metadata ("external") devices that take decapsulated packets whose
 *                  outer source matches no per-peer tunnel (the return path through a
 *                  Service VIP arrives from the gateway pod's own address); they must be up
 *   tunl0/ip6tnl0  the kernel's own fallback devices, renamed coil_tunl/coil_ip6tnl to show
 *                  that Coil owns decapsulation in this netns (they stay down)
 *
 * Plans (founat_plan_*) are pure: they say what the kernel should get and are unit-tested on
 * any host. The appliers carry them out through netlink (rtnetlink for links, the "fou"
 * generic netlink family for listeners). The kernel never autoloads fou/fou6, so Init loads
 * them by exec'ing modprobe; a kernel without them fails Init with a message naming the
 * module.
 *
 * Appliers act on the network namespace of the calling thread (sysctls and the generic
 * netlink socket are taken from it) and on the rtnetlink socket s, which must have been
 * opened in that same netns (lib/nl: nl_netns_run + nl_sock_open). They are not thread-safe
 * for one netns: the caller serialises AddPeer/DelPeer per netns (one worker, or a mutex). */
#ifndef COIL_FOUNAT_H
#define COIL_FOUNAT_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nl/nl.h"

#define FOUNAT_DEFAULT_PORT 5555
#define FOUNAT_MARKER	    "fou-dummy"
#define FOUNAT_PREFIX4	    "fou4_"
#define FOUNAT_PREFIX6	    "fou6_"
#define FOUNAT_FALLBACK4    "coil_ipip4"
#define FOUNAT_FALLBACK6    "coil_ipip6"
#define FOUNAT_KERNEL_FB4   "tunl0"
#define FOUNAT_KERNEL_FB6   "ip6tnl0"
#define FOUNAT_RENAMED_FB4  "coil_tunl"
#define FOUNAT_RENAMED_FB6  "coil_ip6tnl"
#define FOUNAT_TTL	    225
#define FOUNAT_MODPROBE	    "/sbin/modprobe"
#define FOUNAT_IPPROTO_IPIP 4
#define FOUNAT_IPPROTO_IPV6 41
#define FOUNAT_ENCAP_FOU    1 /* TUNNEL_ENCAP_FOU */
#define FOUNAT_ENCAP_DIRECT 1 /* FOU_ENCAP_DIRECT */

/* AddPeer for a peer whose family has no local address: callers skip such peers. The error
 * text is upstream's, "no matching IP family". */
#define FOUNAT_EFAMILY (-EAFNOSUPPORT)

/* One netns's FoU settings. A local address of family 0 = that family is not configured. */
struct founat_config {
	uint16_t port; /* listen port, encap dport, and the encap sport unless sport_auto */
	struct nl_ip local4, local6;
};

/* ---- naming (name.c) ---- */

#define FOUNAT_NAME_LEN 14 /* "fou4_" + 8 hex + NUL */

/* An IPv4-mapped IPv6 address as IPv4, any other address unchanged. */
struct nl_ip founat_ip_normalize(const struct nl_ip *ip);
/* The tunnel name of peer into name[FOUNAT_NAME_LEN]; -EINVAL for family 0. */
int founat_link_name(const struct nl_ip *peer, char *name, size_t namelen);

/* ---- plans (plan.c) ---- */

/* A FoU listener: `ip fou add port <port> ipproto <ipproto>` of family. */
struct founat_listener {
	int family; /* AF_INET or AF_INET6 */
	uint8_t ipproto;
	uint16_t port;
	const char *module; /* "fou" or "fou6": what must be loaded first */
};

/* A sysctl of the netns: path parts under /proc/sys and the value. */
struct founat_sysctl {
	const char *parts[5];
	size_t nparts;
	const char *value;
};

/* What Init does, in order: load modules, add listeners, write sysctls, create the marker. */
struct founat_init_plan {
	struct founat_listener listeners[2];
	size_t nlisteners;
	struct founat_sysctl sysctls[4];
	size_t nsysctls;
};

/* Fills the Init plan of c (one listener per configured family, rp_filter 0 and ip_forward 1
 * for IPv4, forwarding 1 for IPv6). -EINVAL (err filled) for port 0 or no family. */
int founat_plan_init(const struct founat_config *c, struct founat_init_plan *out, char *err,
		     size_t errlen);

/* One per-peer tunnel as it must exist, plus its family's fallback devices. */
struct founat_tunnel {
	char name[FOUNAT_NAME_LEN];
	const char *kind; /* "ipip" or "ip6tnl" */
	int family;
	struct nl_ip local, remote;
	uint8_t ttl;
	uint16_t sport, dport;	     /* host order; sport 0 = chosen per flow by the kernel */
	const char *fallback;	     /* coil_ipip4 / coil_ipip6 */
	const char *kernel_fallback; /* tunl0 / ip6tnl0 */
	const char *renamed_fallback;
};

/* The tunnel towards peer (mapped addresses taken as IPv4). FOUNAT_EFAMILY with err "no
 * matching IP family" when c has no local address of the peer's family. */
int founat_plan_tunnel(const struct founat_config *c, const struct nl_ip *peer, bool sport_auto,
		       struct founat_tunnel *out, char *err, size_t errlen);

enum founat_step {
	FOUNAT_STEP_CREATE,   /* no such link: create it */
	FOUNAT_STEP_KEEP,     /* exists with the wanted source port: keep it (and its routes) */
	FOUNAT_STEP_RECREATE, /* exists with another source port: delete, then create (the
				 kernel cannot change encap options of a live ipip link) */
	FOUNAT_STEP_CONFLICT, /* a link of that name but another kind: refuse */
};

/* What AddPeer does with have (NULL = no link of that name). Only the kind and the encap
 * source port are compared, as upstream does: the other attributes follow from the name. */
enum founat_step founat_plan_peer_step(const struct founat_tunnel *want,
				       const struct nl_iptun_info *have);

/* ---- appliers (init.c, peer.c, fou.c, modprobe.c) ---- */

/* Idempotent Init: nothing when the marker exists; else loads modules, adds the listeners
 * (an existing listener of the same port and family is accepted, so a crash between the
 * listeners and the marker does not wedge the netns), writes the sysctls, creates the
 * marker. */
int founat_init(struct nl_sock *s, const struct founat_config *c, char *err, size_t errlen);
/* *out = the marker exists. */
int founat_is_initialized(struct nl_sock *s, bool *out, char *err, size_t errlen);
/* Makes the tunnel towards peer exist (created down; recreated when the source port mode
 * changed), ensures the fallback device is up and renames the kernel's fallback device.
 * *out (may be NULL) = the tunnel link as it is now. FOUNAT_EFAMILY as founat_plan_tunnel. */
int founat_add_peer(struct nl_sock *s, const struct founat_config *c, const struct nl_ip *peer,
		    bool sport_auto, struct nl_link *out, char *err, size_t errlen);
/* Deletes the tunnel of peer; 0 when it does not exist. Routes through it go with it. */
int founat_del_peer(struct nl_sock *s, const struct nl_ip *peer, char *err, size_t errlen);

/* Tunnels are read back with nl_iptun_get (lib/nl). */

/* FoU listeners of the calling thread's netns (FOU_CMD_GET dump). *out malloc'd, caller
 * frees. -ENOENT (err names the module) when the fou family is not in the kernel. */
int founat_fou_list(struct founat_listener **out, size_t *count, char *err, size_t errlen);
/* Adds one listener; an existing one of the same port and family is success. */
int founat_fou_add(const struct founat_listener *l, char *err, size_t errlen);

/* Loads a kernel module by exec'ing FOUNAT_MODPROBE (argv, no shell) unless
 * /sys/module/<name> exists. A failure names the module: "failed to load fou module: ...".
 * Exposed for the NAT client and tests. */
int founat_load_module(const char *name, char *err, size_t errlen);

#endif
