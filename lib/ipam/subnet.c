/* AddressPool subnet sets: upstream's SubnetSet Validate / Equal / GetBlock. */
#include "ipam/ipam.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Parses one field the way upstream's Validate does and returns its host
 * bits, or -EINVAL with upstream's message. */
static int field_host_bits(const char *text, enum ip_family family, int min_size, char *err,
			   size_t errlen)
{
	struct ip_prefix prefix;
	if (ip_prefix_parse(text, true, &prefix) < 0) {
		snprintf(err, errlen, "invalid CIDR address: %s", text);
		return -EINVAL;
	}
	if (prefix.addr.family != family) {
		snprintf(err, errlen, "invalid IPv%d subnet: %s", family == IP_FAMILY_V4 ? 4 : 6,
			 text);
		return -EINVAL;
	}
	int host = (int)(ip_family_bits(family) - prefix.len);
	if (host < min_size) {
		snprintf(err, errlen, "too narrow subnet: %s", text);
		return -EINVAL;
	}
	return host;
}

int subnet_set_validate(const struct subnet_set *set, int min_size, char *err, size_t errlen)
{
	if (!set->ipv4 && !set->ipv6) {
		snprintf(err, errlen, "invalid subnet");
		return -EINVAL;
	}
	int host4 = 0, host6 = 0;
	if (set->ipv4) {
		host4 = field_host_bits(set->ipv4, IP_FAMILY_V4, min_size, err, errlen);
		if (host4 < 0)
			return host4;
	}
	if (set->ipv6) {
		host6 = field_host_bits(set->ipv6, IP_FAMILY_V6, min_size, err, errlen);
		if (host6 < 0)
			return host6;
	}
	if (set->ipv4 && set->ipv6 && host4 != host6) {
		snprintf(err, errlen, "dual stack subnet must be the same size");
		return -EINVAL;
	}
	return 0;
}

enum subnet_kind subnet_set_kind(const struct subnet_set *set)
{
	if (set->ipv4 && set->ipv6)
		return SUBNET_DUAL;
	if (set->ipv4)
		return SUBNET_IPV4;
	if (set->ipv6)
		return SUBNET_IPV6;
	return SUBNET_INVALID;
}

static bool field_equal(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

bool subnet_set_equal(const struct subnet_set *a, const struct subnet_set *b)
{
	return field_equal(a->ipv4, b->ipv4) && field_equal(a->ipv6, b->ipv6);
}

/* Host bits of the field that sizes the set (ipv4 if present, else ipv6),
 * after a full validation against block_bits. */
static int sizing_host_bits(const struct subnet_set *set, int block_bits)
{
	char ignored[128];
	if (block_bits < 0 || subnet_set_validate(set, block_bits, ignored, sizeof(ignored)) < 0)
		return -EINVAL;
	struct ip_prefix prefix;
	ip_prefix_parse(set->ipv4 ? set->ipv4 : set->ipv6, true, &prefix);
	return (int)(ip_family_bits(prefix.addr.family) - prefix.len);
}

int subnet_set_capacity(const struct subnet_set *set, int block_bits, uint64_t *out)
{
	int host = sizing_host_bits(set, block_bits);
	if (host < 0)
		return host;
	/* host - block_bits may be up to 128: saturate instead of shifting. */
	int exponent = host - block_bits;
	*out = exponent >= 31 ? IPAM_MAX_BLOCKS : UINT64_C(1) << exponent;
	return 0;
}

static int carve_field(const char *text, uint64_t n, int block_bits, char out[IP_CIDR_STRLEN])
{
	struct ip_prefix network;
	ip_prefix_parse(text, true, &network);
	struct ip_prefix block;
	int ret = ip_addr_add(&network.addr, n, (unsigned)block_bits, &block.addr);
	if (ret < 0)
		return -ERANGE;
	block.len = ip_family_bits(network.addr.family) - (unsigned)block_bits;
	ip_prefix_format(&block, out);
	return 0;
}

int subnet_set_get_block(const struct subnet_set *set, uint64_t n, int block_bits,
			 struct ipam_block_cidrs *out)
{
	memset(out, 0, sizeof(*out));
	int host = sizing_host_bits(set, block_bits);
	if (host < 0)
		return host;
	/* Like upstream, n is not checked against the capacity (upstream's
	 * test vectors carve past the end of the subnet); only leaving the address
	 * space is an error. The pool walk never asks past the end. */
	if (set->ipv4 && carve_field(set->ipv4, n, block_bits, out->ipv4) < 0)
		return -ERANGE;
	if (set->ipv6 && carve_field(set->ipv6, n, block_bits, out->ipv6) < 0)
		return -ERANGE;
	return 0;
}
