/* coil egress: the gateway side of Coil's egress NAT, running in each gateway pod of an
 * Egress. It listens for FoU, keeps one tunnel per client pod IP (found by watching the pods
 * that name this Egress in their annotation), routes replies back into the tunnels (table
 * 118, rule "iif eth0 lookup 118" at priority 2000) and masquerades what leaves eth0.
 *
 * Pieces, each testable alone:
 *   env.c        the pod's environment (COIL_POD_NAMESPACE, COIL_EGRESS_NAME,
 *                COIL_POD_ADDRESSES, HOSTNAME);
 *   natserver.c  the marker egress-dummy, the return-routing rule, NAT rules, client routes;
 *   podwatch.c   which pod IPs need a tunnel, with reference counts per IP so that an IP
 *                reused by a new pod keeps its tunnel when the old pod goes;
 *   collect.c    the conntrack and nf_tables counters of the metrics;
 *   gateway.c    the running program: informer, worker thread, collector thread. */
#ifndef COIL_EGRESS_H
#define COIL_EGRESS_H

#include <jansson.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "founat/founat.h"
#include "kube/kube.h"
#include "metrics/metrics.h"
#include "natrules/natrules.h"
#include "nl/nl.h"

#define EGRESS_TABLE	      118
#define EGRESS_RULE_PRIORITY  2000
#define EGRESS_ROUTE_PROTOCOL 30
#define EGRESS_INTERFACE      "eth0"
#define EGRESS_MARKER	      "egress-dummy"
#define EGRESS_COLLECT_MS     30000

/* ---- environment (env.c) ---- */

struct egress_env {
	char ns[64], name[64];	     /* the parent Egress */
	char pod[256];		     /* HOSTNAME: the metrics' pod label */
	struct nl_ip local4, local6; /* last address of each family; family 0 = none */
};

/* Parses the variables (any may be NULL = unset). Messages as upstream's, e.g.
 * "COIL_POD_ADDRESSES contains invalid address: x". */
int egress_env_parse(const char *ns, const char *name, const char *addresses, const char *hostname,
		     struct egress_env *out, char *err, size_t errlen);

/* ---- NAT server (natserver.c) ---- */

struct egress_natserver {
	struct nl_ip local4, local6;
	char oif[IF_NAMESIZE]; /* EGRESS_INTERFACE, a test may use another */
	enum natrules_backend backend;
};

/* The return-routing rules of the configured families (iif oif lookup 118 prio 2000). */
size_t egress_natserver_plan_rules(const struct egress_natserver *n, struct nl_rule out[2]);
/* The host route of a client through its tunnel. */
struct nl_route egress_natserver_plan_route(const struct nl_ip *client, int ifindex);

/* NAT rules and the return-routing rule of each configured family (an existing rule is
 * accepted). */
int egress_natserver_apply(struct nl_sock *s, const struct egress_natserver *n, char *err,
			   size_t errlen);
/* Idempotent through the marker: nothing when it exists, else egress_natserver_apply and
 * the marker (a dummy link). */
int egress_natserver_init(struct nl_sock *s, const struct egress_natserver *n, char *err,
			  size_t errlen);
/* Routes client (a /32 or /128 in table 118) through link, bringing link up; nothing when
 * table 118 already routes that client. FOUNAT_EFAMILY for an unconfigured family. */
int egress_natserver_add_client(struct nl_sock *s, const struct egress_natserver *n,
				const struct nl_ip *client, const struct nl_link *link, char *err,
				size_t errlen);

/* ---- pod watcher (podwatch.c) ---- */

#define EGRESS_POD_MAX_IPS 4
#define EGRESS_KEY_LEN	   320

/* The facts of one pod that decide whether it is a client of this Egress. */
struct egress_pod {
	char key[EGRESS_KEY_LEN]; /* "namespace/name" */
	char ns[64], name[256];
	bool host_network, terminated;
	bool wants; /* annotation egress.coil.cybozu.com/<egress ns> lists this Egress */
	struct nl_ip ips[EGRESS_POD_MAX_IPS];
	size_t nips;
};

/* Reads a Pod object; -EINVAL (err filled) when it is not one (no metadata.name). Unparsable
 * entries of status.podIPs are skipped. */
int egress_pod_decode(const json_t *pod, const char *egress_ns, const char *egress_name,
		      struct egress_pod *out, char *err, size_t errlen);
/* True if pod should have tunnels: annotated for this Egress, not host-network, not done. */
bool egress_pod_is_client(const struct egress_pod *pod);

/* What the watcher does to the kernel (a mock in tests). add_peer makes the tunnel and the
 * client route exist and names the link in ifname; both return 0 or a negative errno, and
 * FOUNAT_EFAMILY from add_peer means "skip this IP". */
struct egress_peer_ops {
	int (*add_peer)(void *arg, const struct nl_ip *ip, char ifname[IF_NAMESIZE], char *err,
			size_t errlen);
	int (*del_peer)(void *arg, const struct nl_ip *ip, char *err, size_t errlen);
	void *arg;
};

struct egress_watch;

/* m (borrowed, may be NULL) gets coil_egress_client_pod_count/_info. */
struct egress_watch *egress_watch_new(const struct egress_peer_ops *ops, struct metrics *m,
				      const char *egress_ns, const char *egress_name);
void egress_watch_free(struct egress_watch *w);
/* Reconciles one pod key: pod is its current state, or NULL when it no longer exists. A pod
 * that stops being a client (deleted, finished, annotation dropped) releases its IPs; an IP
 * is un-tunnelled only when no other pod holds it. Not thread-safe: one worker calls it. */
int egress_watch_sync(struct egress_watch *w, const char *key, const struct egress_pod *pod,
		      char *err, size_t errlen);
/* Number of pods tracked (clients, with or without an IP yet). */
size_t egress_watch_pod_count(const struct egress_watch *w);
/* True if some tracked pod holds ip. */
bool egress_watch_has_peer(const struct egress_watch *w, const struct nl_ip *ip);

/* ---- metrics collection (collect.c) ---- */

/* Declares the eight coil_egress_* gauges in m. */
int egress_metrics_declare(struct metrics *m);

struct egress_conntrack {
	uint64_t count, max;
};
/* Conntrack entries and limit of the calling thread's netns (ctnetlink statistics). */
int egress_conntrack_stats(struct egress_conntrack *out, char *err, size_t errlen);
/* One collection round: conntrack, then per configured family the masquerade and invalid
 * counters. Stops at the first failure (err), leaving later gauges as they were. */
int egress_collect(struct metrics *m, const struct egress_env *env, char *err, size_t errlen);

/* ---- the program (gateway.c) ---- */

struct egress_gateway_config {
	struct egress_env env;
	uint16_t port;
	bool sport_auto;
	enum natrules_backend backend;
	struct metrics *metrics; /* borrowed */
};

struct egress_gateway;

/* Sets up FoU and the NAT server in the current netns (failures are fatal for the program),
 * then starts the pod informer, the worker and the collector. */
int egress_gateway_start(struct kube_client *client, const struct egress_gateway_config *cfg,
			 struct egress_gateway **out, char *err, size_t errlen);
/* /readyz: 0 once the initial pod sync is complete. */
int egress_gateway_ready(void *gateway, char *err, size_t errlen);
/* Waits until stopped (egress_gateway_stop) or until the worker failed for good; returns 0
 * or the failure (err). */
int egress_gateway_wait(struct egress_gateway *g, char *err, size_t errlen);
/* Async-safe enough for the signal thread: wakes egress_gateway_wait. */
void egress_gateway_stop(struct egress_gateway *g);
void egress_gateway_free(struct egress_gateway *g);

#endif
