/* The egress NAT client that coild sets up inside a client pod's network namespace
 * (docs/behaviour/daemon.md, 'Egress NAT clients'): which Egresses a pod asks for (its
 * annotations), the gateways they give (the Egress Service's ClusterIPs with the Egress
 * destinations of the same family), the policy routing (tables 117/118, rules 1800, 1900,
 * 2000+i, 2100), one route per destination through the FoU tunnel of its gateway, and the
 * originating-only mode (fwmark rule 1000, table 1000+ifindex, connmark rules).
 *
 * Plans (what to add and delete) are pure functions over values, so they are tested without
 * a kernel; appliers run them through lib/nl on a socket opened in the pod's netns. The FoU
 * listener, the tunnel links and the connmark rules come through the small interfaces below
 * (struct natclient_tunnel_ops, struct natclient_connmark_ops), which lib/founat provides.
 *
 * Functions return 0 or a negative errno and write what failed into err. Not thread-safe per
 * pod: the caller holds the pod's container lock. */
#ifndef COIL_NATCLIENT_H
#define COIL_NATCLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "natrules/natrules.h"
#include "nl/nl.h"

#define NATCLIENT_TABLE_NARROW	      117 /* destinations inside the in-cluster ranges */
#define NATCLIENT_TABLE_WIDE	      118 /* all others, consulted after in-cluster traffic left */
#define NATCLIENT_ROUTE_PROTOCOL      30
#define NATCLIENT_PRIO_LINKLOCAL      1800
#define NATCLIENT_PRIO_NARROW	      1900
#define NATCLIENT_PRIO_CLUSTER	      2000 /* + i for the i-th in-cluster range */
#define NATCLIENT_PRIO_WIDE	      2100
#define NATCLIENT_PRIO_FWMARK	      1000 /* originating-only: fwmark <ifindex> lookup 1000+ifindex */
#define NATCLIENT_ORIGONLY_TABLE_BASE 1000
#define NATCLIENT_MAX_RULES	      8 /* the most rules natclient_rules_plan gives one family */

/* ---- which Egresses a pod asks for (annotation.c) ---------------------------------------- */

struct natclient_ref {
	char *ns, *name; /* owned */
};

struct natclient_refs {
	struct natclient_ref *items; /* owned */
	size_t n;
};

/* Every key "egress.coil.cybozu.com/<ns>" of annotations (a JSON object, borrowed; NULL or a
 * non-object: none) gives one reference per element of its value split on ',' (no trimming:
 * "a, b" is "a" and " b"; an empty element is kept and its lookup fails later, as upstream).
 * An empty namespace or a value that is not a string is -EINVAL. *out is freed with
 * natclient_refs_free, also after failure. */
int natclient_refs_parse(const json_t *annotations, struct natclient_refs *out, char *err,
			 size_t errlen);
void natclient_refs_free(struct natclient_refs *refs);

/* Whether annotations ask for Egress ns/name (the watcher's test). */
bool natclient_refs_match(const json_t *annotations, const char *ns, const char *name);

/* ---- gateways (gateway.c) ------------------------------------------------------------------ */

struct natclient_gateway {
	struct nl_ip address;	    /* the Service ClusterIP: the tunnel's remote end */
	struct nl_prefix *networks; /* owned: destinations of the address's family, normalised */
	size_t n_networks;
	bool sport_auto; /* spec.fouSourcePortAuto: encap source port 0 (flow hash) */
	bool originating_only;
};

struct natclient_gateways {
	struct natclient_gateway *items; /* owned */
	size_t n;
};

/* Appends the gateways of Egress ns/name (egress and service are the API objects, borrowed):
 * one per spec.clusterIPs entry that has destinations of its family (destinations normalised
 * to their network address, duplicates dropped). Errors: "invalid ClusterIP in Service
 * <ns>/<name>: ..." and "invalid network in Egress <ns>/<name>: ..." (-EINVAL). */
int natclient_gateways_add(struct natclient_gateways *gws, const char *ns, const char *name,
			   const json_t *egress, const json_t *service, bool originating_only,
			   char *err, size_t errlen);
void natclient_gateways_free(struct natclient_gateways *gws);

/* ---- plans (plan.c) -------------------------------------------------------------------------- */

/* The in-cluster ranges of family, in rule order: IPv4 10/8, 172.16/12, 192.168/16; IPv6
 * fc00::/7. Returns how many (the array is static). */
size_t natclient_cluster_ranges(int family, const struct nl_prefix **out);

/* 117 if the network address of net lies inside an in-cluster range, else 118. */
uint32_t natclient_table_for(const struct nl_prefix *net);

/* The client rules of family: 1800 to link-local lookup main, 1900 lookup 117, 2000+i to the
 * i-th in-cluster range lookup main, 2100 lookup 118. Returns how many (<= NATCLIENT_MAX_RULES). */
size_t natclient_rules_plan(int family, struct nl_rule out[NATCLIENT_MAX_RULES]);

/* Whether rules (one family's dump) look initialised: at least (ranges + 1) rules to the main
 * table (the system's own counts), exactly one to 117 and exactly one to 118. */
bool natclient_rules_initialized(int family, const struct nl_rule *rules, size_t n);

/* Whether the cleared range [1800, 2100] holds priority p. */
bool natclient_prio_owned(uint32_t p);

/* One sync of a tunnel link's routes. */
struct natclient_route_plan {
	struct nl_route *del, *add; /* owned arrays */
	size_t n_del, n_add;
	bool add_family[2]; /* [0] IPv4, [1] IPv6: a wanted network of that family was missing
			     * (even one skipped for lack of a pod address) */
};

/* Plans the routes of link oif from the routes of tables 117 and 118 (`existing`, any oif,
 * both families): a route of oif whose destination is not wanted is deleted; a wanted
 * network without a route is added to natclient_table_for() with protocol 30, unless the
 * pod has no address of its family (has_v4/has_v6). -ENOMEM. Free with
 * natclient_route_plan_free. */
int natclient_route_plan(const struct nl_route *existing, size_t n_existing, int oif,
			 const struct nl_prefix *want, size_t n_want, bool has_v4, bool has_v6,
			 struct natclient_route_plan *out);
void natclient_route_plan_free(struct natclient_route_plan *plan);

/* Originating-only, one family: the links that qualify (a universe-scope address of family
 * and main-table routes through them) with what to add for each. */
struct natclient_origonly_link {
	int ifindex;
	struct nl_route *routes; /* owned: the link's main routes, moved to 1000 + ifindex */
	size_t n_routes;
	bool add_rule; /* no "fwmark <ifindex> lookup 1000+ifindex pref 1000" yet */
	struct nl_rule rule;
};

struct natclient_origonly_plan {
	struct natclient_origonly_link *links; /* owned */
	size_t n;
};

/* addrs: the netns's addresses (any family), main: its main-table routes of family, rules:
 * its rules of family. -ENOMEM. */
int natclient_origonly_plan(int family, const struct nl_addr *addrs, size_t n_addrs,
			    const struct nl_route *main, size_t n_main, const struct nl_rule *rules,
			    size_t n_rules, struct natclient_origonly_plan *out);
void natclient_origonly_plan_free(struct natclient_origonly_plan *plan);

/* Whether r is "fwmark <ifindex> lookup 1000+ifindex pref 1000". */
bool natclient_is_fwmark_rule(const struct nl_rule *r, int ifindex);

/* ---- the FoU side and the connmark rules, provided by lib/founat ------------------------------
 */

struct natclient_tunnel_ops {
	/* In the netns of s (the calling thread's): the FoU listener(s) on port for each family
	 * the pod has (v4/v6 family 0 = none), rp_filter 0 and forwarding, and the fou-dummy
	 * marker; nothing when the marker exists. */
	int (*init)(void *ctx, struct nl_sock *s, uint16_t port, const struct nl_ip *v4,
		    const struct nl_ip *v6, char *err, size_t errlen);
	/* 1 when the marker exists, 0 when not, or -errno. */
	int (*initialized)(void *ctx, struct nl_sock *s, char *err, size_t errlen);
	/* The tunnel link towards peer (created or reused, recreated on an encap source port
	 * change) and the flow-based fallback device; *ifindex of the peer link. -EAFNOSUPPORT
	 * when the pod has no address of peer's family (the caller skips it). */
	int (*add_peer)(void *ctx, struct nl_sock *s, uint16_t port, const struct nl_ip *v4,
			const struct nl_ip *v6, const struct nl_ip *peer, bool sport_auto,
			int *ifindex, char *err, size_t errlen);
	void *ctx;
};

struct natclient_connmark_ops {
	/* The two connmark rules of link (name, ifindex) for family, added when missing. */
	int (*ensure)(void *ctx, int family, const char *ifname, int ifindex, char *err,
		      size_t errlen);
	/* Removes them (iptables: both rules; nftables: the family's mangle table). */
	int (*remove)(void *ctx, int family, const char *ifname, int ifindex, char *err,
		      size_t errlen);
	void *ctx;
};

/* The operations over lib/founat (FoU listeners and tunnels) and lib/natrules (connmark rules
 * with the backend b): what the daemon uses. */
extern const struct natclient_tunnel_ops natclient_founat_tunnel;
const struct natclient_connmark_ops *natclient_connmark_for(enum natrules_backend b);

/* ---- appliers, in the netns of socket s (apply.c, origonly.c) ------------------------------- */

/* Init per family the pod has (has_v4/has_v6): deletes every rule with a priority in
 * [1800, 2100] and every route of tables 117 and 118, then adds natclient_rules_plan's
 * rules (EEXIST ignored). */
int natclient_rules_init(struct nl_sock *s, bool has_v4, bool has_v6, char *err, size_t errlen);

/* 1 when natclient_rules_initialized holds for every family the pod has, 0 when not. */
int natclient_rules_check(struct nl_sock *s, bool has_v4, bool has_v6, char *err, size_t errlen);

/* Makes the 117/118 routes through oif equal to networks; then, with originating_only,
 * configures it for each family of natclient_route_plan.add_family, else removes it for both
 * families. connmark may be NULL (no connmark rules). */
int natclient_routes_sync(struct nl_sock *s, int oif, const struct nl_prefix *networks, size_t n,
			  bool has_v4, bool has_v6, bool originating_only,
			  const struct natclient_connmark_ops *connmark, char *err, size_t errlen);

int natclient_origonly_configure(struct nl_sock *s, int family,
				 const struct natclient_connmark_ops *connmark, char *err,
				 size_t errlen);
int natclient_origonly_remove(struct nl_sock *s, int family,
			      const struct natclient_connmark_ops *connmark, char *err,
			      size_t errlen);

/* ---- one pod (setup.c) ------------------------------------------------------------------------
 */

struct natclient_config {
	uint16_t port; /* --egress-port: FoU listen port, encap dport and fixed sport */
	const struct natclient_tunnel_ops *tunnel;
	const struct natclient_connmark_ops *connmark; /* NULL: no connmark rules */
};

struct natclient_pod {
	const char *netns_path;
	struct nl_ip ipv4, ipv6; /* family 0 = none */
};

/* CNI ADD: in the pod's netns, the FoU init, the rules init, then per gateway its tunnel
 * (a family the pod lacks is skipped) and its routes. gws->n must be > 0. */
int natclient_setup(const struct natclient_config *cfg, const struct natclient_pod *pod,
		    const struct natclient_gateways *gws, char *err, size_t errlen);

/* An Egress changed: the same per gateway, without init; a pod whose ADD set nothing up
 * fails with "fouTunnel hasn't been initialized" / "natClient hasn't been initialized". */
int natclient_update(const struct natclient_config *cfg, const struct natclient_pod *pod,
		     const struct natclient_gateways *gws, char *err, size_t errlen);

#endif
