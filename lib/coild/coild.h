/* The node daemon (coild): serves the CNI plugin's requests over the UNIX socket, hands out
 * addresses through the node IPAM, sets up pod networks, and exports this node's blocks to
 * the export routing table. It gets its blocks from a block source (standalone or, later,
 * Kubernetes) and knows nothing else about where they come from. */
#ifndef COIL_COILD_H
#define COIL_COILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics/metrics.h"
#include "nodeipam/blocksource.h"
#include "podnet/podnet.h"

struct coild_config {
	struct podnet_config podnet; /* pod table, protocol, rule priority, node IPs, MTU */
	uint32_t export_table;	     /* --export-table-id (119) */
	const char *state_dir;	     /* allocation records; NULL = memory only */
	const char *default_pool;    /* the pool STATUS reports on ("default") */
	bool register_from_main;     /* --register-from-main: also read main-table pod routes */
};

struct coild;

/* Starts the node side: host init (forwarding, the pod-table rule, MTU), the node IPAM over
 * `source` (borrowed, must outlive the daemon), the rebuild of running pods from the kernel
 * (aliases and table 116: they keep their addresses), a GC of empty blocks and the export of
 * this node's blocks. Returns 0 or -errno with err filled. */
int coild_new(const struct coild_config *cfg, const struct block_source *source,
	      struct metrics *metrics, struct coild **out, char *err, size_t errlen);
void coild_free(struct coild *d);

/* The socket server's callback (socket_request_fn): one JSON request in, one JSON response
 * out (malloc'd). `ctx` is the struct coild. */
char *coild_handle_request(void *ctx, const char *request, size_t len);

/* Periodic GC: releases empty blocks and re-exports routes. Returns 0 or -errno. */
int coild_gc(struct coild *d, char *err, size_t errlen);

/* Re-exports this node's blocks to the export table (also repairs routes removed by hand). */
int coild_export_routes(struct coild *d, char *err, size_t errlen);

/* Empties the export table (--clear-routes-on-shutdown). */
int coild_clear_routes(struct coild *d, char *err, size_t errlen);

/* For /readyz: true once coild_new succeeded. */
bool coild_ready(const struct coild *d);

#endif
