#include "standalone/carve.h"
#include "ipam/ipam.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int carve_block(const struct standalone_pool *pool, uint32_t index, struct node_block *out,
		char *err, size_t errlen)
{
	struct subnet_set *sets = calloc(pool->nsubnets, sizeof(*sets));
	if (!sets) {
		snprintf(err, errlen, "pool %s: out of memory", pool->name);
		return -ENOMEM;
	}
	for (size_t i = 0; i < pool->nsubnets; i++) {
		sets[i].ipv4 = pool->subnets[i].ipv4;
		sets[i].ipv6 = pool->subnets[i].ipv6;
	}
	struct ipam_pool view = {
	    .subnets = sets, .n_subnets = pool->nsubnets, .block_bits = pool->blocksize_bits};
	struct ipam_block_cidrs cidrs;
	char why[256];
	int ret = ipam_pool_get_block(&view, index, &cidrs, why, sizeof(why));
	free(sets);
	if (ret < 0) {
		snprintf(err, errlen, "pool %s: block %" PRIu32 ": %s", pool->name, index, why);
		return ret;
	}
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s-%" PRIu32, pool->name, index);
	snprintf(out->pool, sizeof(out->pool), "%s", pool->name);
	out->index = index;
	snprintf(out->ipv4, sizeof(out->ipv4), "%s", cidrs.ipv4);
	snprintf(out->ipv6, sizeof(out->ipv6), "%s", cidrs.ipv6);
	return 0;
}

bool block_is_stale(const struct standalone_manifest *m, const struct node_block *b)
{
	const struct standalone_pool *pool = standalone_manifest_pool(m, b->pool);
	if (!pool)
		return true;
	struct node_block now;
	char err[256];
	if (carve_block(pool, b->index, &now, err, sizeof(err)) < 0)
		return true;
	return strcmp(now.ipv4, b->ipv4) != 0 || strcmp(now.ipv6, b->ipv6) != 0;
}

static bool cidrs_overlap(const char *a, const char *b)
{
	struct ip_prefix pa, pb;
	if (!a[0] || !b[0] || ip_prefix_parse(a, true, &pa) < 0 ||
	    ip_prefix_parse(b, true, &pb) < 0)
		return false;
	return ip_prefix_contains(&pa, &pb.addr) || ip_prefix_contains(&pb, &pa.addr);
}

static bool overlaps_stale_block(const struct standalone_manifest *m, const struct block_state *s,
				 const struct node_block *b)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct node_block *old = &s->blocks[i];
		if ((cidrs_overlap(old->ipv4, b->ipv4) || cidrs_overlap(old->ipv6, b->ipv6)) &&
		    block_is_stale(m, old))
			return true;
	}
	return false;
}

static bool index_taken(const struct block_state *s, const char *pool, uint32_t index)
{
	return state_find(s, pool, index) >= 0;
}

int carve_next(const struct standalone_manifest *m, const struct standalone_pool *pool,
	       const struct block_state *s, struct node_block *out, char *err, size_t errlen)
{
	for (uint64_t index = 0; index < IPAM_MAX_BLOCKS; index++) {
		if (index_taken(s, pool->name, (uint32_t)index))
			continue;
		int ret = carve_block(pool, (uint32_t)index, out, err, errlen);
		if (ret == -ENOSPC)
			break;
		if (ret < 0)
			return ret;
		if (!overlaps_stale_block(m, s, out))
			return 0;
	}
	snprintf(err, errlen, "pool %s does not have free blocks", pool->name);
	return -ENOSPC;
}
