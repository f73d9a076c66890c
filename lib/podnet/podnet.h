/* Pod network on the node (docs/behaviour/daemon.md): the veth pair of a pod, its
 * addresses and routes, host init (forwarding, the pod-table rule, MTU detection),
 * teardown, and the rebuild of the pod list from kernel state.
 *
 * Every call treats the calling thread's current netns as the host. Calls are thread-safe;
 * setups of different containers run in parallel (per-container hashed locks), each with
 * its own netlink sockets.
 *
 * Difference from upstream: IPv6 works at once. DAD is skipped on both ends (accept_dad=0
 * on both links before they come up, and IFA_F_NODAD on the addresses), so setup never
 * waits for DAD. */
#ifndef COIL_PODNET_H
#define COIL_PODNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nl/nl.h"

#define PODNET_ALIAS_PREFIX "COIL"

struct podnet_config {
	uint32_t table;		/* pod routing table, --pod-table-id (116) */
	unsigned char protocol; /* route protocol, --protocol-id (30) */
	uint32_t rule_priority; /* priority of "lookup <table>", --pod-rule-prio (2000) */
	struct nl_ip node_ipv4; /* node InternalIP v4 (host-side address); family 0 = none */
	struct nl_ip node_ipv6; /* node InternalIP v6; family 0 = none */
	unsigned mtu;		/* veth MTU; 0 = detect in podnet_init */
	bool compat_calico;	/* calico-compatible host veth names and per-pod locks */
};

/* Fills the upstream defaults (116, 30, 2000, no node addresses, mtu 0, no calico). */
void podnet_config_default(struct podnet_config *cfg);

/* The node's address of family (AF_INET/AF_INET6) for cfg->node_ipv4/node_ipv6: `text` when
 * given (-EINVAL with err filled if it is not an address of that family); else, with probe,
 * the source address the kernel would pick for traffic leaving the node (no packet is sent);
 * else none. out->family is 0 when there is none. */
int podnet_node_address(const char *text, int family, bool probe, struct nl_ip *out, char *err,
			size_t errlen);

/* Opaque handle: configuration and locks. */
struct podnet;

/* Allocates a handle; touches no kernel state. Free with podnet_free. */
int podnet_new(const struct podnet_config *cfg, struct podnet **out, char *err, size_t errlen);
void podnet_free(struct podnet *pn);

/* Host init at startup: ip_forward=1 and IPv6 all.forwarding=1 (written only if not 1),
 * "pref <prio> lookup <table>" for IPv4 and IPv6 unless a rule with that priority exists,
 * and MTU detection when the configured MTU is 0. Every step is attempted; failures are
 * logged as warnings and the first one is returned (upstream treats them as non-fatal). */
int podnet_init(struct podnet *pn, char *err, size_t errlen);

/* Drift repair: adds the "pref <prio> lookup <table>" rule of each family that has no rule
 * of that priority (as podnet_init does); *added counts the rules put back. */
int podnet_ensure_rules(struct podnet *pn, int *added, char *err, size_t errlen);

/* Drift repair: puts the node address of `family` back on host link ifindex if that link
 * carries a COIL alias, the node has an address of that family and the link lacks it.
 * Returns 1 when it was put back, 0 when nothing was to do (a link that is gone included),
 * or -errno. */
int podnet_restore_node_address(struct podnet *pn, int ifindex, int family, char *err,
				size_t errlen);

/* The MTU given to new veths (configured or detected; 0 = kernel default). */
unsigned podnet_mtu(const struct podnet *pn);

/* MTU auto-detection (docs/behaviour/daemon.md, 'MTU') in the calling thread's netns; 0 if
 * nothing was found. */
int podnet_detect_mtu(unsigned *mtu, char *err, size_t errlen);

/* What to set up. Strings are borrowed for the duration of the call. */
struct podnet_pod {
	const char *netns_path; /* CNI_NETNS */
	/* The same netns as a descriptor (borrowed), when has_netns_fd: the plugin opened it
	 * in the runtime's mount namespace, where the path surely resolves; netns_path then
	 * only names it in the result and in errors. */
	bool has_netns_fd;
	int netns_fd;
	const char *pod_namespace; /* for the calico name and lock (compat_calico) */
	const char *pod_name;
	const char *container_id;
	const char *ifname; /* container-side interface name, e.g. eth0 */
	const char *pool;   /* address pool name; goes into the alias */
	struct nl_ip ipv4;  /* family 0 = none */
	struct nl_ip ipv6;  /* family 0 = none */
};

#define PODNET_MAC_STRLEN 18 /* "aa:bb:cc:dd:ee:ff" */

struct podnet_iface {
	char name[IF_NAMESIZE];
	char mac[PODNET_MAC_STRLEN];
	char sandbox[4096]; /* netns path for the container interface; "" for the host one */
};

/* CNI-shaped result: interfaces [0] container, [1] host; ips v4 then v6, both on
 * interface 0. */
struct podnet_result {
	struct podnet_iface ifaces[2];
	struct nl_prefix ips[2]; /* /32 and /128 */
	size_t n_ips;
	int host_ifindex;
	struct nl_ip ipv6_gateway; /* the host veth's link-local address (family 0 if no v6) */
};

/* Creates the pod's veth pair, addresses and routes. On failure nothing is left behind.
 * A leftover link of the same container and ifname (by name or alias) is deleted first.
 *
 * Crash consistency: the host veth is named after the attachment
 * (podnet_attachment_veth_name) and gets its alias right after the RTM_NEWLINK that creates
 * it (the kernel ignores IFLA_IFALIAS on creation), before any address or route exists; so
 * whatever step a crash interrupts, podnet_destroy finds the pair by its name, and a link
 * that holds an address always has its alias. Steps are marked with fault points
 * (fault.h): add:veth-created, add:aliased, add:pod-addresses, add:host-routes. */
int podnet_setup(struct podnet *pn, const struct podnet_pod *pod, struct podnet_result *res,
		 char *err, size_t errlen);

/* Deletes the attachment's host veth (which removes the pair and its routes): the link named
 * after the attachment if its alias is the attachment's or it has none (a setup killed
 * before the alias), else the link whose alias names container_id and ifname (pods set up
 * under other names: --compat-calico, older versions; this needs a dump of every link).
 * Not found is success; the pod netns need not exist any more. */
int podnet_destroy(struct podnet *pn, const char *container_id, const char *ifname, char *err,
		   size_t errlen);

/* DEL off the kernel's slow path. Deleting a link makes the kernel wait for an RCU grace
 * period (tens of milliseconds, most of a DEL), and one request that deletes many links
 * waits once. So a DEL retires the host veth instead: one RTM_NEWLINK puts it down (the
 * kernel drops its routes), into link group PODNET_REAP_GROUP and renames its alias to
 * PODNET_RETIRED_PREFIX ":<containerID>:<ifname>", after which no lookup of this file
 * (podnet_find_*, podnet_check, podnet_list, drift repair) sees it as the attachment's any
 * more. podnet_reap then deletes every retired link of the node in one request; the caller
 * keeps the attachment's address until then. */
#define PODNET_REAP_GROUP     0x434f494cu /* "COIL"; a group nothing else on a node uses */
#define PODNET_RETIRED_PREFIX "COILREAP"

/* Retires the attachment's host veth, found as podnet_destroy finds it. *ifindex is the
 * retired link, or 0 when there was none (success too). Fault point: del:retired. */
int podnet_retire(struct podnet *pn, const char *container_id, const char *ifname, int *ifindex,
		  char *err, size_t errlen);

/* Deletes every retired link in one request; none is success. */
int podnet_reap(struct podnet *pn, char *err, size_t errlen);

/* Deletes link ifindex at once if it still is the attachment's retired link (an ADD of the
 * same attachment cannot wait for the next batch: the pod netns may still have the ifname).
 * Gone already is success. */
int podnet_reap_one(struct podnet *pn, const char *container_id, const char *ifname, int ifindex,
		    char *err, size_t errlen);

/* podnet_destroy by the attachment's name only (no dump): for the GC of crash leftovers
 * that a podnet_list, which sees aliased links only, has already covered. */
int podnet_destroy_by_name(struct podnet *pn, const char *container_id, const char *ifname,
			   char *err, size_t errlen);

/* 0 if a host link with the attachment's alias exists (looked up by name first, then by a
 * dump), -ENOENT ("not found") if not. */
int podnet_check(struct podnet *pn, const char *container_id, const char *ifname, char *err,
		 size_t errlen);

/* 0 if the link named after the attachment exists and is the attachment's (its alias or
 * none), -ENOENT if not: a kernel object podnet_list may not show. */
int podnet_find_by_name(struct podnet *pn, const char *container_id, const char *ifname, char *err,
			size_t errlen);

/* Runs fn(arg) holding the container lock that setup and destroy of container_id take, so
 * that work inside a pod (its NAT client) never races its setup or teardown. Returns fn's
 * result. */
int podnet_with_container_lock(struct podnet *pn, const char *container_id, int (*fn)(void *arg),
			       void *arg);

/* Egress-only mode: tags the chained plugin's host interface host_ifname with the alias
 * COIL::<container_id>:<ifname> (empty pool), which podnet_check and podnet_list then see. */
int podnet_set_owner_alias(struct podnet *pn, const char *host_ifname, const char *container_id,
			   const char *ifname, char *err, size_t errlen);

/* The path of the netns the host veth host_ifindex pairs with, among the named netns under
 * /run/netns or /var/run/netns (containerd and CRI-O name every pod netns there). -ENOENT when
 * none is. */
int podnet_netns_path(struct podnet *pn, int host_ifindex, char *path, size_t len, char *err,
		      size_t errlen);

/* One pod found in kernel state (host veth alias and pod-table routes). */
struct podnet_entry {
	char pool[NL_ALIAS_MAX];
	char container_id[NL_ALIAS_MAX];
	char ifname[NL_ALIAS_MAX];
	struct nl_ip ipv4; /* from the pod table routes via the host veth; family 0 = none */
	struct nl_ip ipv6;
	char host_veth[IF_NAMESIZE];
	int host_ifindex;
};

/* All pods: host links whose alias is COIL:<pool>:<containerID>:<ifname>, with addresses
 * from the pod table. *out is freed by the caller with free(). */
int podnet_list(struct podnet *pn, struct podnet_entry **out, size_t *count, char *err,
		size_t errlen);

/* Alias helpers (exposed for tests). podnet_alias_format returns -ENAMETOOLONG if the
 * alias would not fit into IFALIASZ; podnet_alias_parse returns -EINVAL unless the text
 * has exactly four ':'-separated fields, the first being "COIL". */
int podnet_alias_format(const char *pool, const char *container_id, const char *ifname, char *buf,
			size_t buflen);
int podnet_alias_parse(const char *alias, struct podnet_entry *out);

/* Host veth names (exposed for tests): "veth" + the first 8 hex digits of
 * SHA-1("<containerID>:<ifname>"), or for calico compatibility the first 11 of
 * SHA-1("<namespace>.<name>"); "veth" + 8 random hex digits when the attachment's name is
 * taken by another link. */
void podnet_attachment_veth_name(const char *container_id, const char *ifname,
				 char name[IF_NAMESIZE]);
int podnet_random_veth_name(char name[IF_NAMESIZE]);
void podnet_calico_veth_name(const char *pod_namespace, const char *pod_name,
			     char name[IF_NAMESIZE]);

#endif
