/* Fixtures of the kubesource integration tests: the test API server with deploy/crd
 * applied, the Nodes, Namespaces and pools of upstream's node IPAM tests, and a fake controller
 * that answers BlockRequests by creating blocks from a fixed list and writing status. */
#ifndef COIL_TEST_KUBESOURCE_FIXTURE_H
#define COIL_TEST_KUBESOURCE_FIXTURE_H

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "apiserver.h"
#include "kubesource/kubesource.h"
#include "nodeipam/nodeipam.h"

/* The running server of the current test (started by fx_start, stopped by fx_stop). */
extern struct apiserver fx_srv;
extern struct kube_client *fx_client; /* a plain client for test set-up and checks */
extern struct kube_config fx_kube;    /* the config kubesources of the test use: coild's */
extern char fx_coild_token[128];      /* token of the coild ServiceAccount */

/* Starts the server, applies the CRDs, creates Nodes node1 (10.20.30.41, fd10::41), node2
 * (10.20.30.42), node3 (fd10::43), Namespaces ns1 (no annotation), ns2 (pool global), ns3
 * (pool "") and AddressPools default and v4. */
void fx_start(void);
void fx_stop(void);

/* A kubesource for node with a short acquire timeout (ms; 0 = 3000). Caller closes. */
struct kubesource *fx_source(const char *node, long acquire_timeout_ms);
/* A memory-only node IPAM over ks's block source (which must stay alive). Caller destroys. */
struct node_ipam *fx_ipam(struct kubesource *ks, struct block_source *src_storage);

/* The fake controller: polls BlockRequests every 20 ms; for one without
 * conditions it creates the first block of the request's pool from its list that does not
 * exist yet (labels pool, node and request, finalizer coil.cybozu.com), then writes
 * Complete=True + addressBlockName, or Complete=True + Failed=True ("out of blocks") when
 * none is left. Pool lists: default → default-0 (0, 10.2.0.0/31, fd02::0200/127), default-1
 * (1, 10.2.0.2/31, fd02::0202/127); v4 → v4-0 (2, 10.4.0.0/30). */
struct fake_controller {
	pthread_t thread;
	atomic_bool stop;
	bool decoy; /* first answer a stale look-alike request for the same node and pool */
	atomic_int answered; /* requests answered */
	struct kube_client *client;
};
/* Starts one (heap-allocated, so a failing test that leaves it running cannot pull its
 * memory away: fx_stop stops a controller still running). */
struct fake_controller *fake_controller_start(bool decoy);
void fake_controller_stop(struct fake_controller *fc);
/* Stops the one started last if it still runs (fx_stop calls it). */
void fake_controller_stop_running(void);

/* Creates an AddressBlock (labels pool, node; reserved label when reserved; finalizer). */
void fx_create_block(const char *name, const char *pool, const char *node, int index,
		     const char *ipv4, const char *ipv6, bool reserved);
/* Number of AddressBlocks; whether one exists. */
size_t fx_count_blocks(void);
bool fx_block_exists(const char *name);

/* The CIDR texts of ipam's owned blocks, sorted and joined with ",". */
void fx_owned(struct node_ipam *ipam, char *buf, size_t len);

#endif
