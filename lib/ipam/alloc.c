/* The allocator of the addresses inside one block: a bitmap where bit i
 * is address base+i of each family; hands out the next free bit after the
 * last one handed out, wrapping around, so a freed address is not reused
 * immediately. */
#include "ipam/ipam.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct block_alloc {
	struct ip_prefix v4, v6; /* family IP_FAMILY_NONE when absent */
	uint32_t size;
	uint32_t used;
	int64_t last; /* offset handed out last, -1 before the first */
	uint64_t *words;
};

static bool field_present(const char *text)
{
	return text && text[0];
}

static int parse_field(const char *text, enum ip_family family, struct ip_prefix *out, char *err,
		       size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (!field_present(text))
		return 0;
	if (ip_prefix_parse(text, true, out) < 0 || out->addr.family != family) {
		snprintf(err, errlen, "invalid IPv%d block CIDR: %s",
			 family == IP_FAMILY_V4 ? 4 : 6, text);
		return -EINVAL;
	}
	return 0;
}

int block_alloc_new(const char *ipv4, const char *ipv6, struct block_alloc **out, char *err,
		    size_t errlen)
{
	struct block_alloc a;
	memset(&a, 0, sizeof(a));
	if (!field_present(ipv4) && !field_present(ipv6)) {
		snprintf(err, errlen, "block has neither an IPv4 nor an IPv6 CIDR");
		return -EINVAL;
	}
	int ret = parse_field(ipv4, IP_FAMILY_V4, &a.v4, err, errlen);
	if (ret == 0)
		ret = parse_field(ipv6, IP_FAMILY_V6, &a.v6, err, errlen);
	if (ret < 0)
		return ret;

	if (field_present(ipv4) && field_present(ipv6) && 32 - a.v4.len != 128 - a.v6.len) {
		snprintf(err, errlen, "dual-stack block sizes differ: %s and %s", ipv4, ipv6);
		return -EINVAL;
	}
	const struct ip_prefix *sizing = field_present(ipv4) ? &a.v4 : &a.v6;
	unsigned host = ip_family_bits(sizing->addr.family) - sizing->len;
	if (host > IPAM_BLOCK_MAX_BITS) {
		snprintf(err, errlen, "block %s has 2^%u addresses, more than the supported 2^%d",
			 field_present(ipv4) ? ipv4 : ipv6, host, IPAM_BLOCK_MAX_BITS);
		return -E2BIG;
	}
	a.size = UINT32_C(1) << host;
	a.last = -1;
	a.words = calloc((a.size + 63) / 64, sizeof(uint64_t));
	*out = malloc(sizeof(**out));
	if (!a.words || !*out) {
		free(a.words);
		free(*out);
		*out = NULL;
		snprintf(err, errlen, "out of memory for block %s",
			 field_present(ipv4) ? ipv4 : ipv6);
		return -ENOMEM;
	}
	**out = a;
	return 0;
}

void block_alloc_destroy(struct block_alloc *alloc)
{
	if (!alloc)
		return;
	free(alloc->words);
	free(alloc);
}

uint32_t block_alloc_size(const struct block_alloc *alloc)
{
	return alloc->size;
}

uint32_t block_alloc_used(const struct block_alloc *alloc)
{
	return alloc->used;
}

bool block_alloc_is_used(const struct block_alloc *alloc, uint32_t offset)
{
	return offset < alloc->size && (alloc->words[offset / 64] >> (offset % 64)) & 1;
}

static void mark(struct block_alloc *alloc, uint32_t offset)
{
	if (block_alloc_is_used(alloc, offset))
		return;
	alloc->words[offset / 64] |= UINT64_C(1) << (offset % 64);
	alloc->used++;
}

int block_alloc_mark(struct block_alloc *alloc, uint32_t offset)
{
	if (offset >= alloc->size)
		return -ERANGE;
	mark(alloc, offset);
	alloc->last = offset;
	return 0;
}

void block_alloc_free_offset(struct block_alloc *alloc, uint32_t offset)
{
	if (!block_alloc_is_used(alloc, offset))
		return;
	alloc->words[offset / 64] &= ~(UINT64_C(1) << (offset % 64));
	alloc->used--;
}

static int offset_in(const struct ip_prefix *block, const struct ip_addr *addr)
{
	uint64_t offset;
	if (!addr || block->addr.family == IP_FAMILY_NONE || !ip_prefix_contains(block, addr))
		return -ENOENT;
	if (ip_addr_offset(&block->addr, addr, &offset) < 0)
		return -ENOENT;
	return (int)offset; /* < 2^IPAM_BLOCK_MAX_BITS */
}

int block_alloc_register(struct block_alloc *alloc, const struct ip_addr *ip4,
			 const struct ip_addr *ip6)
{
	int offset = offset_in(&alloc->v4, ip4);
	if (offset < 0)
		offset = offset_in(&alloc->v6, ip6);
	/* A dual-stack block's IPv6 part may be larger than its IPv4 part
	 * only if the CIDRs were inconsistent; never index past the bitmap. */
	if (offset < 0 || (uint32_t)offset >= alloc->size)
		return -ENOENT;
	mark(alloc, (uint32_t)offset);
	alloc->last = offset;
	return offset;
}

/* First clear bit in [from, to), or -1. */
static int64_t find_clear(const struct block_alloc *alloc, uint32_t from, uint32_t to)
{
	uint32_t i = from;
	while (i < to) {
		uint64_t free_bits = ~alloc->words[i / 64] >> (i % 64);
		if (free_bits == 0) {
			i = (i / 64 + 1) * 64; /* rest of this word is used */
			continue;
		}
		uint32_t found = i + (uint32_t)__builtin_ctzll(free_bits);
		return found < to ? (int64_t)found : -1;
	}
	return -1;
}

int block_alloc_addresses(const struct block_alloc *alloc, uint32_t offset, struct ip_addr *ip4,
			  struct ip_addr *ip6)
{
	if (offset >= alloc->size)
		return -ERANGE;
	const struct ip_prefix *blocks[2] = {&alloc->v4, &alloc->v6};
	struct ip_addr *outs[2] = {ip4, ip6};
	for (int i = 0; i < 2; i++) {
		if (!outs[i])
			continue;
		memset(outs[i], 0, sizeof(*outs[i]));
		if (blocks[i]->addr.family != IP_FAMILY_NONE &&
		    ip_addr_add(&blocks[i]->addr, offset, 0, outs[i]) < 0)
			return -ERANGE;
	}
	return 0;
}

int block_alloc_allocate(struct block_alloc *alloc, struct ip_addr *ip4, struct ip_addr *ip6)
{
	uint32_t after_last = (uint32_t)(alloc->last + 1);
	int64_t offset = find_clear(alloc, after_last, alloc->size);
	if (offset < 0)
		offset = find_clear(alloc, 0, alloc->size);
	if (offset < 0)
		return -ENOSPC;
	int ret = block_alloc_addresses(alloc, (uint32_t)offset, ip4, ip6);
	if (ret < 0)
		return ret;
	mark(alloc, (uint32_t)offset);
	alloc->last = offset;
	return (int)offset;
}

bool block_alloc_is_full(const struct block_alloc *alloc)
{
	return alloc->used == alloc->size;
}

bool block_alloc_is_empty(const struct block_alloc *alloc)
{
	return alloc->used == 0;
}

void block_alloc_fill(struct block_alloc *alloc)
{
	for (uint32_t i = 0; i < alloc->size; i++)
		mark(alloc, i);
	alloc->last = (int64_t)alloc->size - 1;
}
