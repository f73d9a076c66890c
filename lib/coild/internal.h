/* Private parts of the node daemon shared by its files. */
#ifndef COIL_COILD_INTERNAL_H
#define COIL_COILD_INTERNAL_H

#include <pthread.h>

#include "cni/cni.h"
#include "coild/coild.h"
#include "nodeipam/nodeipam.h"

struct coild {
	struct coild_config cfg;
	const struct block_source *source; /* borrowed */
	struct metrics *metrics;	   /* borrowed */
	struct podnet *podnet;
	struct node_ipam *ipam;
	struct coild_reaper *reaper; /* owned; started by coild_new */
	pthread_mutex_t export_lock; /* one export-table sync at a time */
	bool ready;
};

/* handlers.c: one function per RPC command; each fills resp (error or result). */
void coild_add(struct coild *d, const struct cni_rpc_request *req, struct cni_rpc_response *resp);
void coild_del(struct coild *d, const struct cni_rpc_request *req, struct cni_rpc_response *resp);
void coild_check(struct coild *d, const struct cni_rpc_request *req, struct cni_rpc_response *resp);
void coild_status(struct coild *d, const struct cni_rpc_request *req,
		  struct cni_rpc_response *resp);
void coild_gc_attachments(struct coild *d, const struct cni_rpc_request *req,
			  struct cni_rpc_response *resp);

/* handlers.c, shared with chained.c: the error reply (status Internal), the CNI code of a
 * negative errno (11 "try again later" for an unreachable API server or a full disk, else
 * 999), IS_CHAINED as Go's strconv.ParseBool, the pod lookup with its NAT gateways (false
 * after filling resp with the error; *pod, if asked for, the Pod or NULL in standalone
 * mode), and the NAT client's setup under the container lock of lock_key. */
void coild_fail(struct cni_rpc_response *resp, int code, const char *msg, const char *details);
int coild_error_code(int rc);
int coild_parse_chained(const char *text, bool *chained);
bool coild_lookup_pod(struct coild *d, const struct cni_rpc_request *req, json_t **pod,
		      struct natclient_gateways *gws, struct cni_rpc_response *resp);
int coild_setup_nat(struct coild *d, const char *lock_key, const struct natclient_pod *pod,
		    const struct natclient_gateways *gws, char *err, size_t errlen);

/* chained.c: ADD and CHECK of egress-only mode. */
void coild_add_chained(struct coild *d, const struct cni_rpc_request *req,
		       struct cni_rpc_response *resp);
void coild_check_chained(struct coild *d, const struct cni_rpc_request *req,
			 struct cni_rpc_response *resp);

/* reaper.c: the background reap of retired host veths (one thread). A retired attachment is
 * "owned" by the reaper until its link is deleted and its address freed. */
struct coild_reaper;
int coild_reaper_start(struct coild *d, struct coild_reaper **out, char *err, size_t errlen);
/* Stops the thread and reaps what is pending; NULL ok. */
void coild_reaper_stop(struct coild_reaper *r);
/* Hands a retired link (podnet_retire) over; it frees the attachment's address once the
 * link is gone. Reaps at once when the list cannot grow. */
int coild_reaper_add(struct coild_reaper *r, const char *container_id, const char *ifname,
		     int ifindex, char *err, size_t errlen);
bool coild_reaper_owns(struct coild_reaper *r, const char *container_id, const char *ifname);
/* Before an ADD of the attachment: reaps its retired link now (waits if its batch is in the
 * kernel) and frees its address, so the ADD starts from nothing. */
int coild_reaper_settle(struct coild_reaper *r, const char *container_id, const char *ifname,
			char *err, size_t errlen);
/* Hurries the pending reaps and waits (bounded) until they are done: true if there were
 * any, i.e. addresses may have come back. */
bool coild_reaper_flush(struct coild_reaper *r);

/* observe.c: upstream's gRPC metric names and access log. */
void coild_metrics_declare(struct metrics *m);
void coild_observe_start(struct coild *d, const char *method);
void coild_observe_done(struct coild *d, const char *method, const struct cni_rpc_request *req,
			const struct cni_rpc_response *resp, double seconds);

/* export.c: the node IPAM's blocks_changed hook; the export with a count of the routes it
 * had to add (*added may be NULL). */
void coild_blocks_changed(void *arg);
int coild_export_routes_counted(struct coild *d, int *added, char *err, size_t errlen);

/* repair.c: puts back the pod-table route of `family` of the pod whose host veth is link
 * ifindex (the kernel flushes a link's IPv4 routes, without telling, when its last IPv4
 * address goes). Returns 1 when it put the route back, 0 when nothing was to do, or -errno. */
int coild_repair_link_pod_route(struct coild *d, int ifindex, int family, char *err, size_t errlen);

/* drift.c: one repaired drift: coild_drift_repaired counts it in
 * coil_drift_repairs_total{object} and logs it (detail is a sentence); coild_drift_report
 * tells cfg.report_drift (which may wait for the API server: called after the repairs). */
#define COILD_DRIFT_METRIC "coil_drift_repairs_total"
void coild_drift_declare(struct metrics *m);
void coild_drift_repaired(struct coild *d, const char *object, const char *reason,
			  const char *detail);
void coild_drift_report(struct coild *d, const char *reason, const char *detail);

#endif
