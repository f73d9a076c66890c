/* A block source for tests: each pool has a fixed list of blocks it can hand
 * out (first not owned wins); counts and checks what the node IPAM does. */
#ifndef COIL_TEST_FAKE_SOURCE_H
#define COIL_TEST_FAKE_SOURCE_H

#include <pthread.h>

#include "nodeipam/blocksource.h"

#define FAKE_MAX_BLOCKS 64

struct fake_source {
	pthread_mutex_t lock;
	struct node_block catalog[FAKE_MAX_BLOCKS]; /* what acquire can hand out */
	size_t n_catalog;
	struct node_block owned[FAKE_MAX_BLOCKS]; /* what list returns */
	size_t n_owned;
	int acquires, releases, lists;
	struct {
		char pool[64];
		int n;
	} flights[8];		      /* acquisitions in flight per pool */
	int in_flight, max_in_flight; /* all pools */
	int max_in_flight_same_pool;
	unsigned acquire_delay_us;
	int acquire_error; /* forced acquire result when non-zero */
	int release_error; /* forced release result when non-zero */
	int list_error;
	/* acquire(gate_pool) blocks until gate_open (tests of parallelism) */
	char gate_pool[64];
	bool gate_open;
	pthread_cond_t gate;
	struct block_source source;
};

void fake_source_init(struct fake_source *fake);
void fake_source_fini(struct fake_source *fake);
/* Adds a catalog block; "" for an absent family. */
void fake_source_add(struct fake_source *fake, const char *pool, const char *name, unsigned index,
		     const char *ipv4, const char *ipv6);
/* Makes a catalog block owned already (optionally reserved). */
void fake_source_own(struct fake_source *fake, const char *name, bool reserved);
/* Drops an owned block behind the node IPAM's back. */
void fake_source_disown(struct fake_source *fake, const char *name);
size_t fake_source_owned_count(struct fake_source *fake);
void fake_source_open_gate(struct fake_source *fake);
/* Waits until an acquisition of `pool` is in flight. */
void fake_source_wait_in_flight(struct fake_source *fake, const char *pool);

#endif
