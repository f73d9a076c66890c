/* coil router (upstream coil-router): on clusters whose nodes share one flat L2
 * segment, route every other node's AddressBlocks via that node's InternalIP in the main
 * table, marked with a route protocol of our own so no other route is ever touched.
 *
 * Three layers, usable on their own:
 *   - the plan (plan.c): pure computation of the desired routes from Node and AddressBlock
 *     objects;
 *   - the kernel syncer (routesync.c): make the main table's routes of one protocol equal
 *     a set of (gateway, destination) pairs;
 *   - the runtime (router.c): an AddressBlock informer whose events post a coalescing token,
 *     and a loop that syncs on each token and on every --update-interval tick.
 *
 * Conventions as lib/kube and lib/nl: 0 or a negative errno, message in err. */
#ifndef COIL_ROUTER_H
#define COIL_ROUTER_H

#include <jansson.h>
#include <stddef.h>

#include "kube/kube.h"
#include "metrics/metrics.h"
#include "nl/nl.h"

#define ROUTER_DEFAULT_PROTOCOL 31

/* One desired route: dst via gateway (no device; the kernel resolves the gateway). */
struct router_route {
	struct nl_ip gateway;
	struct nl_prefix dst; /* host bits cleared */
};

/* ---- the plan (plan.c) ---- */

/* The node's InternalIPs: status.addresses of type InternalIP in order;
 * IPv4 (also IPv4-mapped IPv6, stored as IPv4) goes to *v4, other IPv6 to *v6, later entries
 * win. family 0 in an output means "none". Unparsable addresses are ignored. */
void router_node_ips(const json_t *node, struct nl_ip *v4, struct nl_ip *v6);

/* Desired routes, owned by the plan: free with router_plan_free. Routes of one gateway are
 * adjacent and ordered by block name. */
struct router_plan {
	struct router_route *routes;
	size_t n;
};

/* Builds the plan from an array of Node objects and an array of AddressBlock objects
 * (borrowed): every block labelled coil.cybozu.com/node with the name of a listed node other
 * than self_node gets a route per family it has, via that node's address of that family.
 * Blocks of unknown nodes or of self are skipped; a family the node lacks is logged and
 * skipped, as is an unparsable CIDR. Returns 0 or -ENOMEM / -EINVAL (not arrays). */
int router_plan_build(const json_t *nodes, const json_t *blocks, const char *self_node,
		      struct router_plan *out, char *err, size_t errlen);
void router_plan_free(struct router_plan *plan);

/* ---- the kernel syncer (routesync.c) ---- */

/* Makes the main table's routes of `protocol` (both families) exactly want[0..n) with
 * nl_route_sync_set: routes of that protocol not wanted are deleted first, a destination
 * whose gateway changed is replaced, missing ones are added (scope universe, unicast, no
 * device), and each change is logged. Routes of other protocols are never touched. The
 * first kernel error aborts. Uses the netns the socket was opened in. */
int router_sync_routes(struct nl_sock *s, unsigned char protocol, const struct router_route *want,
		       size_t n, char *err, size_t errlen);

/* ---- the runtime (router.c) ---- */

/* Applies one plan; called on the router's loop thread. Returns 0 or a negative errno. */
typedef int (*router_sync_fn)(void *arg, const struct router_route *routes, size_t n, char *err,
			      size_t errlen);

/* A router_sync_fn for the kernel: opens a netlink socket in the calling thread's netns for
 * each sync. arg is a `struct router_kernel_syncer *`. */
struct router_kernel_syncer {
	unsigned char protocol;
};
int router_kernel_sync(void *arg, const struct router_route *routes, size_t n, char *err,
		       size_t errlen);

struct router_config {
	const char *node_name;	 /* this node (COIL_NODE_NAME); copied */
	long update_interval_ms; /* forced resync period (> 0) */
	router_sync_fn sync;
	void *sync_arg;
	/* Where coil_router_syncs_total and coil_router_routes_synced are declared and kept
	 * (label node="<node_name>"); borrowed, must outlive the router. */
	struct metrics *metrics;
};

struct router;

/* Declares the metrics (created at 0) and sets up, but does not start, the AddressBlock
 * informer. client is borrowed and must outlive the router. Free with router_free. */
int router_new(struct kube_client *client, const struct router_config *cfg, struct router **out,
	       char *err, size_t errlen);

/* Starts the informer and runs the sync loop on the calling thread until router_stop (returns
 * 0) or a failed sync (returns its negative errno with the reason in err: upstream exits then
 * and lets the DaemonSet restart it). */
int router_run(struct router *r, char *err, size_t errlen);

/* Makes router_run return; callable from any thread (not async-signal-safe), idempotent. */
void router_stop(struct router *r);

/* Number of completed syncs (what coil_router_syncs_total counts). */
unsigned long router_sync_count(struct router *r);

void router_free(struct router *r);

#endif
