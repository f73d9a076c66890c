/* Pool-wide block indices: walking an AddressPool's subnets in order, each contributing
 * 2^(host bits - blockSizeBits) blocks. */
#include "ipam/ipam.h"

#include <errno.h>
#include <stdio.h>

uint64_t ipam_pool_max_blocks(const struct ipam_pool *pool)
{
	uint64_t total = 0;
	for (size_t i = 0; i < pool->n_subnets; i++) {
		uint64_t capacity;
		if (subnet_set_capacity(&pool->subnets[i], pool->block_bits, &capacity) < 0)
			continue;
		total += capacity;
		if (total >= IPAM_MAX_BLOCKS)
			return IPAM_MAX_BLOCKS;
	}
	return total;
}

int ipam_pool_get_block(const struct ipam_pool *pool, uint64_t index, struct ipam_block_cidrs *out,
			char *err, size_t errlen)
{
	if (index >= IPAM_MAX_BLOCKS) {
		snprintf(err, errlen, "out of blocks: index %llu exceeds the int32 range",
			 (unsigned long long)index);
		return -ENOSPC;
	}
	uint64_t start = 0;
	for (size_t i = 0; i < pool->n_subnets; i++) {
		const struct subnet_set *set = &pool->subnets[i];
		uint64_t capacity;
		if (subnet_set_capacity(set, pool->block_bits, &capacity) < 0) {
			snprintf(err, errlen,
				 "invalid subnet %zu (ipv4 %s, ipv6 %s) for %d block bits", i,
				 set->ipv4 ? set->ipv4 : "-", set->ipv6 ? set->ipv6 : "-",
				 pool->block_bits);
			return -EINVAL;
		}
		if (index >= start + capacity) {
			start += capacity;
			continue;
		}
		int ret = subnet_set_get_block(set, index - start, pool->block_bits, out);
		if (ret < 0)
			snprintf(err, errlen, "cannot carve block %llu of subnet %zu",
				 (unsigned long long)index, i);
		return ret;
	}
	snprintf(err, errlen, "out of blocks: index %llu is past the pool's %llu blocks",
		 (unsigned long long)index, (unsigned long long)start);
	return -ENOSPC;
}
