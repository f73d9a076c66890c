/* The node daemon (coild): serves the CNI plugin's requests over the UNIX socket, hands out
 * addresses through the node IPAM, sets up pod networks, and exports this node's blocks to
 * the export routing table. It gets its blocks from a block source (standalone or
 * Kubernetes) and knows nothing else about where they come from. */
#ifndef COIL_COILD_H
#define COIL_COILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics/metrics.h"
#include "natclient/natclient.h"
#include "nodeipam/blocksource.h"
#include "podnet/podnet.h"

struct coild_config {
	struct podnet_config podnet; /* pod table, protocol, rule priority, node IPs, MTU */
	/* --enable-ipam=false: chained after another CNI, only the NAT client (no node IPAM,
	 * no export, no block source: coild_new's source may be NULL). Needs pod_lookup. */
	bool egress_only;
	uint32_t export_table;	   /* --export-table-id (119) */
	const char *state_dir;	   /* allocation records; NULL = memory only */
	const char *node_name;	   /* written into the records; NULL = not checked */
	const char *default_pool;  /* the pool STATUS reports on ("default") */
	long empty_block_grace_ms; /* --empty-block-grace: node_ipam_config.empty_grace_ms */
	bool register_from_main;   /* --register-from-main: accepted, unused (table 116 only) */
	/* Kubernetes mode: looks the pod up on ADD; K8S_POD_NAME and K8S_POD_NAMESPACE are then
	 * required and a failure is "failed to get pod" (-EAGAIN: CNI code 11). *pod (may be
	 * NULL) gets the Pod object (caller json_decref()s). NULL (standalone): no lookup,
	 * lenient about missing pod arguments. */
	int (*pod_lookup)(void *ctx, const char *ns, const char *name, json_t **pod, char *err,
			  size_t errlen);
	void *pod_lookup_ctx;
	/* Egress NAT clients (--enable-egress with Kubernetes); NULL: no NAT. On ADD it appends
	 * the gateways the looked-up pod asks for to gws (a failure is "failed to setup NAT
	 * hook"); with any, the client is set up in the pod's netns through `nat` (a failure is
	 * "failed to setup pod network egress", and the pod network is undone). */
	int (*nat_gateways)(void *ctx, const json_t *pod, bool originating_only,
			    struct natclient_gateways *gws, char *err, size_t errlen);
	void *nat_gateways_ctx;
	bool originating_only;	     /* --enable-originating-only */
	struct natclient_config nat; /* port, tunnel and connmark operations (borrowed) */
	/* Kubernetes mode: tells of a drift repair as a Warning Event about the Node (reason
	 * e.g. "PodRouteRestored", note a sentence). NULL (standalone): the log line only.
	 * Called from the drift monitor's thread after each batch of repairs. */
	void (*report_drift)(void *ctx, const char *reason, const char *note);
	void *report_drift_ctx;
};

struct coild;

/* Starts the node side: host init (forwarding, the pod-table rule, MTU), the node IPAM over
 * `source` (borrowed, must outlive the daemon), the rebuild of running pods from the kernel
 * (aliases and table 116: they keep their addresses), the release of allocation records
 * that no kernel object holds, a GC of empty blocks (failures only logged) and the export
 * of this node's blocks. Returns 0 or -errno with err filled. */
int coild_new(const struct coild_config *cfg, const struct block_source *source,
	      struct metrics *metrics, struct coild **out, char *err, size_t errlen);
void coild_free(struct coild *d);

/* The socket server's callback (socket_request_fn): one JSON request in, one JSON response
 * out (malloc'd). `ctx` is the struct coild; passed_fd the pod netns an ADD carried, or -1. */
char *coild_handle_request(void *ctx, const char *request, size_t len, int passed_fd);

/* Periodic GC: releases empty blocks and re-exports routes. Returns 0 or -errno. */
int coild_gc(struct coild *d, char *err, size_t errlen);

/* Runs coild_gc every interval_ms (monotonic clock) on a thread of its own until
 * coild_gc_timer_stop(), which joins it; call that before coild_free(). */
struct coild_gc_timer;
int coild_gc_timer_start(struct coild *d, long interval_ms, struct coild_gc_timer **out, char *err,
			 size_t errlen);
void coild_gc_timer_stop(struct coild_gc_timer *t); /* NULL ok */

/* Re-exports this node's blocks to the export table (also repairs routes removed by hand). */
int coild_export_routes(struct coild *d, char *err, size_t errlen);

/* Empties the export table (--clear-routes-on-shutdown). */
int coild_clear_routes(struct coild *d, char *err, size_t errlen);

/* Repairs what something else removed (drift): a route deleted from the export table makes
 * the table re-exported, a pod's route deleted from the pod table is put back while the
 * pod's address record and host veth still exist, a deleted pod-table rule (priority
 * --pod-rule-prio) is added again, and a node address removed from a host veth is put back.
 * Each repair is counted in coil_drift_repairs_total{object=...}, logged, and told through
 * cfg.report_drift. Watches the kernel's route, rule and address notifications on a thread of
 * its own until coild_route_monitor_stop(), which the caller must call before coild_free(). */
struct coild_route_monitor;
int coild_route_monitor_start(struct coild *d, struct coild_route_monitor **out, char *err,
			      size_t errlen);
void coild_route_monitor_stop(struct coild_route_monitor *m); /* joins and frees; NULL ok */

/* Puts back the pod-table route of dst via host link oif if an address record holds dst and
 * oif is that record's host veth (by alias); else does nothing. Returns 1 when it put the
 * route back, 0 when nothing was to do, or -errno. */
int coild_repair_pod_route(struct coild *d, const struct nl_ip *dst, int oif, char *err,
			   size_t errlen);

/* The Egress watcher's update of one running NAT client pod, found by its IPv4 or IPv6 (family
 * 0 = none), in egress-only mode by its UID (the alias of its host interface): in its netns (a
 * named netns under /var/run/netns paired with its host veth), under its container lock,
 * natclient_update with gws. -EAGAIN "pod network configuration not ready" when the pod or its
 * netns is not found (yet). */
int coild_nat_update(struct coild *d, const char *pod_uid, const struct nl_ip *ipv4,
		     const struct nl_ip *ipv6, const struct natclient_gateways *gws, char *err,
		     size_t errlen);

/* For /readyz: true once coild_new succeeded. */
bool coild_ready(const struct coild *d);

#endif
