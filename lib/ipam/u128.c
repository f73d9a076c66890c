#include "ipam/u128.h"

#include <string.h>

struct u128 u128_from_addr(const struct ip_addr *addr)
{
	struct u128 v = {0, 0};
	if (addr->family == IP_FAMILY_V4) {
		for (int i = 0; i < 4; i++)
			v.lo = (v.lo << 8) | addr->bytes[i];
		return v;
	}
	for (int i = 0; i < 8; i++)
		v.hi = (v.hi << 8) | addr->bytes[i];
	for (int i = 8; i < 16; i++)
		v.lo = (v.lo << 8) | addr->bytes[i];
	return v;
}

void u128_to_addr(struct u128 value, enum ip_family family, struct ip_addr *out)
{
	memset(out, 0, sizeof(*out));
	out->family = family;
	if (family == IP_FAMILY_V4) {
		for (int i = 3; i >= 0; i--, value.lo >>= 8)
			out->bytes[i] = (uint8_t)value.lo;
		return;
	}
	for (int i = 15; i >= 8; i--, value.lo >>= 8)
		out->bytes[i] = (uint8_t)value.lo;
	for (int i = 7; i >= 0; i--, value.hi >>= 8)
		out->bytes[i] = (uint8_t)value.hi;
}

struct u128 u128_shl(struct u128 value, unsigned shift)
{
	struct u128 r = {0, 0};
	if (shift >= 128)
		return r;
	if (shift >= 64) {
		r.hi = value.lo << (shift - 64);
		return r;
	}
	if (shift == 0)
		return value;
	r.hi = (value.hi << shift) | (value.lo >> (64 - shift));
	r.lo = value.lo << shift;
	return r;
}

struct u128 u128_add(struct u128 a, struct u128 b, bool *carry)
{
	struct u128 r;
	r.lo = a.lo + b.lo;
	uint64_t low_carry = r.lo < a.lo;
	uint64_t high = a.hi + b.hi;
	r.hi = high + low_carry;
	*carry = high < a.hi || r.hi < high;
	return r;
}

struct u128 u128_sub(struct u128 a, struct u128 b)
{
	struct u128 r;
	r.lo = a.lo - b.lo;
	r.hi = a.hi - b.hi - (a.lo < b.lo);
	return r;
}

bool u128_less(struct u128 a, struct u128 b)
{
	return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo);
}
