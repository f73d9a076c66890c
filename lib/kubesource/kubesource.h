/* The Kubernetes block source of the node daemon (docs/behaviour/daemon.md, quirks fixed
 * too): this node's blocks are the AddressBlocks labeled coil.cybozu.com/node=<node>; a new
 * block is asked for with a BlockRequest req-<pool>-<node> that coil-ipam-controller answers;
 * an empty block is given back by removing its finalizer and deleting it. It also serves the
 * daemon's other Kubernetes reads: the Node (InternalIPs, existence at shutdown), Pods (ADD)
 * and Namespaces (the pool annotation, from an informer cache).
 *
 * Threads: two informers (BlockRequests, Namespaces) run on threads of their own from open to
 * close. Every function is thread-safe. Requests on the CNI ADD/DEL path use a client with
 * client-go's timeouts (30 s to connect and answer) and few retries, so an unreachable API
 * server fails an ADD with -EAGAIN (the plugin then answers CNI code 11, "try again later"):
 * at once when connections are refused, within 30 s when they hang. */
#ifndef COIL_KUBESOURCE_H
#define COIL_KUBESOURCE_H

#include <stdbool.h>
#include <stddef.h>

#include "ipam/ipam.h"
#include "kube/kube.h"
#include "natclient/natclient.h"
#include "nodeipam/blocksource.h"

#define KUBESOURCE_NODE_ENV "COIL_NODE_NAME"

/* A new block waits for upstream's 10 s answer time plus a leader failover of the
 * ipam-controller (the lease expiring, then one retry period until the next candidate
 * takes it), so a failover in the middle of an ADD is waited out. */
#define KUBESOURCE_ACQUIRE_WAIT_MS                                                                 \
	(10000 + KUBE_LEADER_LEASE_DURATION_MS + KUBE_LEADER_RETRY_PERIOD_MS)

struct kubesource_config {
	/* Borrowed; must outlive the source (kubesource_node_gone makes a client from it). */
	const struct kube_config *kube;
	/* This node (COIL_NODE_NAME). */
	const char *node_name;
	/* How long acquire() waits for the controller's answer; 0 = KUBESOURCE_ACQUIRE_WAIT_MS.
	 * When it passes, acquire() fails with -EAGAIN (CNI code 11, "try again later"). */
	long acquire_timeout_ms;
	/* One API request on the ADD/DEL path, connecting included; 0 = KUBE_CONNECT_TIMEOUT_MS
	 * (client-go's). Up to 3 tries within that time. */
	long request_timeout_ms;
	/* How long open() waits for the informers' first lists; 0 = 10000. Not fatal. */
	long sync_timeout_ms;
	/* Egress-only daemon (--enable-ipam=false): no BlockRequest and Namespace informers
	 * (and no RBAC for them); only the Node, Pod and Egress reads are used. */
	bool no_ipam;
};

struct kubesource;

/* Reads this Node (its UID owns the BlockRequests; failure is an error: startup must stop),
 * then starts the BlockRequest and Namespace informers. Caller ends it with
 * kubesource_close(). Returns 0 or -errno with err set. */
int kubesource_open(const struct kubesource_config *cfg, struct kubesource **out, char *err,
		    size_t errlen);

/* Loads the Kubernetes configuration (kubeconfig_path if given, else $KUBECONFIG, else
 * in-cluster) and opens the source for the node named by $COIL_NODE_NAME, with the default
 * timeouts (no_ipam as in kubesource_config). The daemon's one call. */
int kubesource_open_default(const char *kubeconfig_path, bool no_ipam, struct kubesource **out,
			    char *err, size_t errlen);

/* Stops the informers and frees everything. No op may be running or start. NULL is fine. */
void kubesource_close(struct kubesource *ks);

/* The block_source over ks (ctx = ks), valid until kubesource_close(). */
struct block_source kubesource_block_source(struct kubesource *ks);

/* This node's name. */
const char *kubesource_node_name(const struct kubesource *ks);

/* The Node's InternalIPs as read at open (status.addresses of type InternalIP, the last one
 * of each family wins); "" for a family it has none of. */
void kubesource_node_ips(const struct kubesource *ks, char ipv4[static IP_ADDR_STRLEN],
			 char ipv6[static IP_ADDR_STRLEN]);

/* coild's pod lookup on ADD (ctx = ks): GETs the Pod directly; *pod (may be NULL) gets it
 * (caller json_decref()s). -EINVAL ("missing pod name/namespace"), -ENOENT ("pod not
 * found"), or -EAGAIN / another errno for API errors. */
int kubesource_pod_lookup(void *ctx, const char *ns, const char *name, json_t **pod, char *err,
			  size_t errlen);

/* coild's NAT hook on ADD (ctx = ks): appends to gws the gateways of every Egress that pod
 * (borrowed) asks for in its annotations (none for a host-network pod), reading each Egress
 * and its Service directly. Errors: "failed to get Egress <ns>/<name>: ...", "failed to get
 * Service <ns>/<name>: ..." (-ENOENT, or -EAGAIN when the API server is unreachable), and
 * natclient_gateways_add's (-EINVAL). */
int kubesource_nat_gateways(void *ctx, const json_t *pod, bool originating_only,
			    struct natclient_gateways *gws, char *err, size_t errlen);

/* The Egress watcher: on every change of an Egress, each Running, non-host-network pod of this
 * node that asks for it (its annotations) gets update(arg, its IPv4, its IPv6, the Egress's
 * gateways) (family 0 = none), from the watcher's thread. A failure (update's included) is
 * retried with back-off; two running pods with one address fail the whole pass ("multiple
 * pods have the same address"). A deleted Egress changes nothing. Threads: two informers
 * (this node's pods, all Egresses) and one worker, until kubesource_egress_watch_stop. */
typedef int (*kubesource_nat_update_fn)(void *arg, const char *pod_uid, const struct nl_ip *ipv4,
					const struct nl_ip *ipv6,
					const struct natclient_gateways *gws, char *err,
					size_t errlen);
struct kubesource_egress_watch;
int kubesource_egress_watch_start(struct kubesource *ks, bool originating_only,
				  kubesource_nat_update_fn update, void *arg,
				  struct kubesource_egress_watch **out, char *err, size_t errlen);
void kubesource_egress_watch_stop(struct kubesource_egress_watch *w); /* joins; NULL ok */

/* coild_config.report_drift (ctx = ks): a Warning Event about this Node, from "coild". A
 * failure to post it is logged, never returned (the repair is done either way). */
void kubesource_report_drift(void *ctx, const char *reason, const char *note);

/* For --clear-routes-on-shutdown: GETs this Node within timeout_ms. Returns 1 if it is gone
 * (NotFound), 0 if it exists, or a negative errno when the API could not tell. */
int kubesource_node_gone(struct kubesource *ks, long timeout_ms, char *err, size_t errlen);

#endif
