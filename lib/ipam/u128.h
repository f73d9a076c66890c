/* Private to lib/ipam: addresses as 128-bit unsigned integers, so carving and
 * offsets are plain big-integer arithmetic. Every shift is guarded: C leaves
 * shifts by >= the operand width undefined. */
#ifndef COIL_IPAM_U128_H
#define COIL_IPAM_U128_H

#include <stdbool.h>
#include <stdint.h>

#include "ipam/ipam.h"

struct u128 {
	uint64_t hi, lo;
};

/* The address as an integer in its family's width (IPv4: 0..2^32-1). */
struct u128 u128_from_addr(const struct ip_addr *addr);
/* Inverse of u128_from_addr; the caller guarantees the value fits. */
void u128_to_addr(struct u128 value, enum ip_family family, struct ip_addr *out);

/* value << shift; bits shifted past 128 are lost. */
struct u128 u128_shl(struct u128 value, unsigned shift);
/* a + b; *carry set when the sum wrapped past 2^128. */
struct u128 u128_add(struct u128 a, struct u128 b, bool *carry);
/* a - b; caller guarantees a >= b. */
struct u128 u128_sub(struct u128 a, struct u128 b);
bool u128_less(struct u128 a, struct u128 b);

#endif
