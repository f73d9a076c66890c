/* The state file <state_dir>/blocks.json: the blocks this node owns.
 *
 *   {"version": 1, "node": "node1", "blocks": [
 *     {"name": "default-0", "pool": "default", "index": 0,
 *      "ipv4": "10.2.0.0/31", "ipv6": "fd02::200/127"}]}
 *
 * ipv4/ipv6 are left out for an absent family; "reserved": true only when set. */
#ifndef COIL_STANDALONE_STATE_H
#define COIL_STANDALONE_STATE_H

#include <stddef.h>

#include "nodeipam/blocksource.h"

#define STATE_FILE_NAME "blocks.json"

struct block_state {
	struct node_block *blocks; /* owned; n used of cap */
	size_t n, cap;
};

/* Loads the state file from the directory dirfd (`dir` is its path, for
 * messages). A missing file is an empty state. A file that does not parse, is
 * not of this format, holds an inconsistent or duplicate block, or belongs to
 * another node than `node` is an error (-EINVAL), never a reset. On success the
 * caller frees *out with state_free(). */
int state_load(int dirfd, const char *dir, const char *node, struct block_state *out, char *err,
	       size_t errlen);

/* Atomically and durably replaces the state file with *s. */
int state_save(int dirfd, const char *dir, const char *node, const struct block_state *s, char *err,
	       size_t errlen);

/* Appends a copy of *b. Returns 0 or -ENOMEM. */
int state_add(struct block_state *s, const struct node_block *b);

/* Removes the block at i, keeping the order of the others. */
void state_remove_at(struct block_state *s, size_t i);

/* The position of the block of `pool` with `index`, or -1. */
long state_find(const struct block_state *s, const char *pool, uint32_t index);

void state_free(struct block_state *s);

#endif
