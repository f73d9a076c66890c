/* The allocated block indices of one pool: a sorted array of distinct indices, so the
 * memory is bounded by the number of blocks rather than by the largest index a hand-made block
 * might carry (indices go up to 2^31 - 1). Not thread-safe: the pool's lock guards it. */
#ifndef COIL_IPAMCTL_INDEXSET_H
#define COIL_IPAMCTL_INDEXSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ipamctl_index_set {
	uint32_t *items; /* owned, ascending */
	size_t len, cap;
};

/* An empty set is all zeroes; release the memory with ipamctl_index_set_free(). */
void ipamctl_index_set_free(struct ipamctl_index_set *set);
void ipamctl_index_set_clear(struct ipamctl_index_set *set);
/* Adds index (no-op if present). Returns 0 or -ENOMEM. */
int ipamctl_index_set_add(struct ipamctl_index_set *set, uint32_t index);
bool ipamctl_index_set_contains(const struct ipamctl_index_set *set, uint32_t index);
/* The smallest non-negative integer not in the set. */
uint64_t ipamctl_index_set_lowest_free(const struct ipamctl_index_set *set);

#endif
