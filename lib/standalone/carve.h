/* Carving this node's blocks out of the manifest's pools with lib/ipam
 * (as the ipam-controller does: lowest free index, subnets walked in order). */
#ifndef COIL_STANDALONE_CARVE_H
#define COIL_STANDALONE_CARVE_H

#include <stdbool.h>
#include <stddef.h>

#include "standalone/standalone.h"
#include "standalone/state.h"

/* Block `index` of `pool`: name, pool, index and canonical CIDRs.
 * -ENOSPC when the index is past the pool's capacity. */
int carve_block(const struct standalone_pool *pool, uint32_t index, struct node_block *out,
		char *err, size_t errlen);

/* Whether the manifest no longer yields `b`: its pool is gone, or carving its
 * index gives other CIDRs (the pool was edited). Such blocks stay owned, their
 * addresses may be in use. */
bool block_is_stale(const struct standalone_manifest *m, const struct node_block *b);

/* The next block of `pool` for this node: the lowest index no block of the state
 * has, skipping carvings that overlap a stale block (whose addresses may still
 * be in use). -ENOSPC "pool <p> does not have free blocks" when none is left. */
int carve_next(const struct standalone_manifest *m, const struct standalone_pool *pool,
	       const struct block_state *s, struct node_block *out, char *err, size_t errlen);

#endif
