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

/* observe.c: upstream's gRPC metric names and access log. */
void coild_metrics_declare(struct metrics *m);
void coild_observe_start(struct coild *d, const char *method);
void coild_observe_done(struct coild *d, const char *method, const struct cni_rpc_request *req,
			const struct cni_rpc_response *resp, double seconds);

/* export.c: the node IPAM's blocks_changed hook. */
void coild_blocks_changed(void *arg);

#endif
