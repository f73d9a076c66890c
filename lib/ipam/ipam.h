/* Pure IPAM arithmetic (no I/O, no locks): IPv4/IPv6 addresses and CIDRs,
 * AddressPool subnet sets, carving pool-wide block indices into block CIDRs,
 * and the allocator of the addresses inside one block.
 * Behaviour follows upstream Coil v2 (docs/behaviour/objects.md, 'Subnet sets' and
 * 'Canonical CIDR text'; docs/behaviour/daemon.md, 'Address allocation').
 *
 * Every function that can fail returns 0 (or a non-negative result) or a
 * negative errno; none allocates memory except block_alloc_new(). */
#ifndef COIL_IPAM_H
#define COIL_IPAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- addresses and prefixes ------------------------------------------- */

enum ip_family { IP_FAMILY_NONE = 0, IP_FAMILY_V4 = 4, IP_FAMILY_V6 = 6 };

/* Longest canonical text of an address / a CIDR, plus the NUL. */
#define IP_ADDR_STRLEN 46
#define IP_CIDR_STRLEN 50

/* An IPv4 or IPv6 address in network byte order. IPv4 uses bytes[0..3], the
 * other bytes are zero. family IP_FAMILY_NONE means "no address". */
struct ip_addr {
	enum ip_family family;
	uint8_t bytes[16];
};

/* A network: addr with prefix length len (0..32 or 0..128). */
struct ip_prefix {
	struct ip_addr addr;
	unsigned len;
};

/* 32 for IPv4, 128 for IPv6, 0 otherwise. */
unsigned ip_family_bits(enum ip_family family);

/* Parses a dotted quad (no leading zeros, like Go) or an IPv6 address (with
 * optional embedded dotted quad; no zone). Returns 0 or -EINVAL. */
int ip_addr_parse(const char *text, struct ip_addr *out);

/* Parses "<address>/<decimal prefix>" strictly: a missing or empty prefix,
 * a prefix out of range, or anything after it is -EINVAL. Host bits set in
 * the address are masked off when mask_host_bits is true, else -EINVAL. */
int ip_prefix_parse(const char *text, bool mask_host_bits, struct ip_prefix *out);

/* Canonical text: dotted quad, or RFC 5952 IPv6 (lower case, no leading
 * zeros, the first longest run of >= 2 zero groups as "::"). IPv4-mapped
 * IPv6 addresses are printed in hex like any other IPv6 address. */
void ip_addr_format(const struct ip_addr *addr, char out[static IP_ADDR_STRLEN]);
void ip_prefix_format(const struct ip_prefix *prefix, char out[static IP_CIDR_STRLEN]);

bool ip_addr_equal(const struct ip_addr *a, const struct ip_addr *b);

/* Whether addr is of prefix's family and inside it. */
bool ip_prefix_contains(const struct ip_prefix *prefix, const struct ip_addr *addr);

/* Clears the host bits of prefix->addr. */
void ip_prefix_mask(struct ip_prefix *prefix);

/* *out = addr - base. -EAFNOSUPPORT if the families differ, -ERANGE if addr
 * is below base or the difference does not fit 64 bits. */
int ip_addr_offset(const struct ip_addr *base, const struct ip_addr *addr, uint64_t *out);

/* *out = addr + n * 2^shift, carrying across all bytes of the family.
 * -EOVERFLOW when the sum leaves the family's address space. */
int ip_addr_add(const struct ip_addr *addr, uint64_t n, unsigned shift, struct ip_addr *out);

/* ---- subnet sets (AddressPool spec.subnets[]) ------------------------- */

/* Pool-wide block indices are int32 in the AddressBlock CRD: at most 2^31 of
 * them (0..2147483647). Capacities saturate at this value. */
#define IPAM_MAX_BLOCKS (UINT64_C(1) << 31)

/* Raw texts as the user wrote them; NULL means the field is absent. The
 * strings are borrowed, never freed here. */
struct subnet_set {
	const char *ipv4;
	const char *ipv6;
};

enum subnet_kind { SUBNET_INVALID, SUBNET_IPV4, SUBNET_IPV6, SUBNET_DUAL };

/* Upstream's SubnetSet.Validate(minSize): returns 0 or -EINVAL with exactly
 * upstream's message in err ("invalid subnet", "invalid CIDR address: <t>",
 * "invalid IPv4 subnet: <t>", "too narrow subnet: <t>", ...), checked in
 * upstream's order. min_size is the pool's blockSizeBits. */
int subnet_set_validate(const struct subnet_set *set, int min_size, char *err, size_t errlen);

/* By presence of the fields only. */
enum subnet_kind subnet_set_kind(const struct subnet_set *set);

/* Same fields present with byte-identical texts (no parsing). */
bool subnet_set_equal(const struct subnet_set *a, const struct subnet_set *b);

/* Number of blocks of 2^block_bits addresses: 2^(h - block_bits) with h the
 * host bits of ipv4 if present, else of ipv6; saturated at IPAM_MAX_BLOCKS.
 * -EINVAL if the set does not parse or block_bits is not in 0..h. */
int subnet_set_capacity(const struct subnet_set *set, int block_bits, uint64_t *out);

/* Canonical CIDRs of a block; "" for an absent family. */
struct ipam_block_cidrs {
	char ipv4[IP_CIDR_STRLEN];
	char ipv6[IP_CIDR_STRLEN];
};

/* Upstream's GetBlock(n, bits): the n-th block of 2^block_bits addresses of
 * each present family, counted from the network address. Like upstream, n is
 * not checked against the subnet's capacity (callers walk capacities).
 * -EINVAL if the set is invalid for block_bits, -ERANGE if the block would
 * leave the address space. */
int subnet_set_get_block(const struct subnet_set *set, uint64_t n, int block_bits,
			 struct ipam_block_cidrs *out);

/* ---- pools ------------------------------------------------------------ */

/* An AddressPool's spec; subnets borrowed. */
struct ipam_pool {
	const struct subnet_set *subnets;
	size_t n_subnets;
	int block_bits;
};

/* Σ capacities, saturated at IPAM_MAX_BLOCKS; subnets that do not validate
 * contribute nothing. */
uint64_t ipam_pool_max_blocks(const struct ipam_pool *pool);

/* Carves pool-wide block `index` by walking the subnets in order.
 * -ENOSPC ("out of blocks") when index is past the pool or > 2147483647,
 * -EINVAL when a subnet on the way does not validate. */
int ipam_pool_get_block(const struct ipam_pool *pool, uint64_t index, struct ipam_block_cidrs *out,
			char *err, size_t errlen);

/* ---- allocator of the addresses of one block -------------------------- */

/* Blocks larger than 2^IPAM_BLOCK_MAX_BITS addresses are refused (-E2BIG):
 * the bitmap would be huge and no sane pool uses such blocks per node. */
#define IPAM_BLOCK_MAX_BITS 20

struct block_alloc;

/* Creates the allocator of a block from its ipv4/ipv6 CIDR texts (NULL or ""
 * for an absent family; at least one present; host bits are masked off).
 * Size is taken from ipv4 if present, else ipv6. Caller frees with
 * block_alloc_destroy(). Returns 0, -EINVAL or -E2BIG (message in err). */
int block_alloc_new(const char *ipv4, const char *ipv6, struct block_alloc **out, char *err,
		    size_t errlen);
void block_alloc_destroy(struct block_alloc *alloc);

/* Number of addresses N (each family), and how many of them are in use. */
uint32_t block_alloc_size(const struct block_alloc *alloc);
uint32_t block_alloc_used(const struct block_alloc *alloc);

/* Marks an address already in use (startup rebuild). ip4 / ip6 may be NULL.
 * Tries ip4 against the IPv4 block first, then ip6 against the IPv6 block.
 * Returns the offset, or -ENOENT when the address is not in this block. */
int block_alloc_register(struct block_alloc *alloc, const struct ip_addr *ip4,
			 const struct ip_addr *ip6);

/* Takes the first free offset after the last one handed out, wrapping
 * around. Fills *ip4 / *ip6 (family IP_FAMILY_NONE for an absent family;
 * either pointer may be NULL). Returns the offset or -ENOSPC when full. */
int block_alloc_allocate(struct block_alloc *alloc, struct ip_addr *ip4, struct ip_addr *ip6);

/* The addresses at `offset` (no state change). -ERANGE if out of the block. */
int block_alloc_addresses(const struct block_alloc *alloc, uint32_t offset, struct ip_addr *ip4,
			  struct ip_addr *ip6);

/* Marks offset used as if handed out last (restoring a persisted record).
 * Returns 0 or -ERANGE. */
int block_alloc_mark(struct block_alloc *alloc, uint32_t offset);

/* Marks offset free; idempotent, out-of-range offsets are ignored. */
void block_alloc_free_offset(struct block_alloc *alloc, uint32_t offset);

bool block_alloc_is_used(const struct block_alloc *alloc, uint32_t offset);
bool block_alloc_is_full(const struct block_alloc *alloc);
bool block_alloc_is_empty(const struct block_alloc *alloc);

/* Marks every address used (reserved blocks): never hands anything out. */
void block_alloc_fill(struct block_alloc *alloc);

#endif
