/* IP address and CIDR parsing, canonical printing and arithmetic. */
#include "ipam/ipam.h"
#include "ipam/u128.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

unsigned ip_family_bits(enum ip_family family)
{
	switch (family) {
	case IP_FAMILY_V4:
		return 32;
	case IP_FAMILY_V6:
		return 128;
	default:
		return 0;
	}
}

int ip_addr_parse(const char *text, struct ip_addr *out)
{
	memset(out, 0, sizeof(*out));
	/* glibc's inet_pton is strict: four decimal octets without leading
	 * zeros, or RFC 4291 IPv6 text; no zones, no whitespace. */
	if (inet_pton(AF_INET, text, out->bytes) == 1) {
		out->family = IP_FAMILY_V4;
		return 0;
	}
	if (inet_pton(AF_INET6, text, out->bytes) == 1) {
		out->family = IP_FAMILY_V6;
		return 0;
	}
	memset(out, 0, sizeof(*out));
	return -EINVAL;
}

/* Decimal prefix length like Go's dtoi: one or more digits (leading zeros
 * allowed), nothing else. */
static int parse_prefix_len(const char *text, unsigned max, unsigned *out)
{
	unsigned value = 0;
	if (*text == '\0')
		return -EINVAL;
	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		value = value * 10 + (unsigned)(*p - '0');
		if (value > max)
			return -EINVAL;
	}
	*out = value;
	return 0;
}

static bool host_bits_set(const struct ip_prefix *prefix)
{
	struct ip_prefix masked = *prefix;
	ip_prefix_mask(&masked);
	return !ip_addr_equal(&masked.addr, &prefix->addr);
}

int ip_prefix_parse(const char *text, bool mask_host_bits, struct ip_prefix *out)
{
	memset(out, 0, sizeof(*out));
	const char *slash = strchr(text, '/');
	if (!slash)
		return -EINVAL;
	char addr_text[IP_ADDR_STRLEN];
	size_t addr_len = (size_t)(slash - text);
	if (addr_len >= sizeof(addr_text))
		return -EINVAL;
	memcpy(addr_text, text, addr_len);
	addr_text[addr_len] = '\0';

	struct ip_prefix parsed;
	if (ip_addr_parse(addr_text, &parsed.addr) < 0)
		return -EINVAL;
	if (parse_prefix_len(slash + 1, ip_family_bits(parsed.addr.family), &parsed.len) < 0)
		return -EINVAL;
	if (host_bits_set(&parsed)) {
		if (!mask_host_bits)
			return -EINVAL;
		ip_prefix_mask(&parsed);
	}
	*out = parsed;
	return 0;
}

static void format_v6(const uint8_t *bytes, char *out)
{
	unsigned groups[8];
	for (int i = 0; i < 8; i++)
		groups[i] = (unsigned)bytes[2 * i] << 8 | bytes[2 * i + 1];

	/* RFC 5952 section 4.2: compress the longest run of >= 2 zero groups, the
	 * first one when runs tie. */
	int best_start = -1, best_len = 1;
	for (int i = 0; i < 8;) {
		int j = i;
		while (j < 8 && groups[j] == 0)
			j++;
		if (j - i > best_len) {
			best_start = i;
			best_len = j - i;
		}
		i = j > i ? j : i + 1;
	}

	char *p = out;
	for (int i = 0; i < 8; i++) {
		if (i == best_start) {
			p += sprintf(p, "::");
			i += best_len - 1;
			continue;
		}
		if (i > 0 && i != best_start + best_len)
			*p++ = ':';
		p += sprintf(p, "%x", groups[i]);
	}
	*p = '\0';
}

void ip_addr_format(const struct ip_addr *addr, char out[static IP_ADDR_STRLEN])
{
	const uint8_t *b = addr->bytes;
	switch (addr->family) {
	case IP_FAMILY_V4:
		snprintf(out, IP_ADDR_STRLEN, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
		break;
	case IP_FAMILY_V6:
		format_v6(b, out);
		break;
	default:
		out[0] = '\0';
	}
}

void ip_prefix_format(const struct ip_prefix *prefix, char out[static IP_CIDR_STRLEN])
{
	char addr[IP_ADDR_STRLEN];
	ip_addr_format(&prefix->addr, addr);
	snprintf(out, IP_CIDR_STRLEN, "%s/%u", addr, prefix->len);
}

bool ip_addr_equal(const struct ip_addr *a, const struct ip_addr *b)
{
	return a->family == b->family && memcmp(a->bytes, b->bytes, sizeof(a->bytes)) == 0;
}

void ip_prefix_mask(struct ip_prefix *prefix)
{
	unsigned bits = ip_family_bits(prefix->addr.family);
	for (unsigned bit = prefix->len; bit < bits; bit++)
		prefix->addr.bytes[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
}

bool ip_prefix_contains(const struct ip_prefix *prefix, const struct ip_addr *addr)
{
	if (addr->family != prefix->addr.family)
		return false;
	struct ip_prefix candidate = {.addr = *addr, .len = prefix->len};
	ip_prefix_mask(&candidate);
	struct ip_prefix network = *prefix;
	ip_prefix_mask(&network);
	return ip_addr_equal(&candidate.addr, &network.addr);
}

int ip_addr_offset(const struct ip_addr *base, const struct ip_addr *addr, uint64_t *out)
{
	if (base->family != addr->family || base->family == IP_FAMILY_NONE)
		return -EAFNOSUPPORT;
	struct u128 b = u128_from_addr(base), a = u128_from_addr(addr);
	if (u128_less(a, b))
		return -ERANGE;
	struct u128 diff = u128_sub(a, b);
	if (diff.hi != 0)
		return -ERANGE;
	*out = diff.lo;
	return 0;
}

int ip_addr_add(const struct ip_addr *addr, uint64_t n, unsigned shift, struct ip_addr *out)
{
	unsigned bits = ip_family_bits(addr->family);
	if (bits == 0)
		return -EAFNOSUPPORT;
	if (n != 0 && shift >= bits)
		return -EOVERFLOW;
	/* n < 2^64 fits shifted by up to 64; beyond that its top bits would
	 * be pushed out of the 128-bit integer. */
	if (n != 0 && shift > 64 && (n >> (128 - shift)) != 0)
		return -EOVERFLOW;
	struct u128 shifted = u128_shl((struct u128){0, n}, shift);
	bool carry;
	struct u128 sum = u128_add(u128_from_addr(addr), shifted, &carry);
	if (carry || (bits == 32 && (sum.hi != 0 || sum.lo > UINT32_MAX)))
		return -EOVERFLOW;
	u128_to_addr(sum, addr->family, out);
	return 0;
}
