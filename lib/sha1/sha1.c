/* A small SHA-1 (FIPS 180-4) for deriving interface names (calico-compatible veth names,
 * Coil's fou6_ tunnel names). Not for anything that needs collision resistance. */
#include "sha1/sha1.h"
#include <stdint.h>

#include <string.h>

struct sha1 {
	uint32_t h[5];
	unsigned char block[64];
	size_t used;
	uint64_t total;
};

static uint32_t rol(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

static void sha1_block(struct sha1 *c, const unsigned char *p)
{
	uint32_t w[80];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	uint32_t a = c->h[0], b = c->h[1], cc = c->h[2], d = c->h[3], e = c->h[4];
	for (int i = 0; i < 80; i++) {
		uint32_t f, k;
		if (i < 20) {
			f = (b & cc) | (~b & d);
			k = 0x5a827999;
		} else if (i < 40) {
			f = b ^ cc ^ d;
			k = 0x6ed9eba1;
		} else if (i < 60) {
			f = (b & cc) | (b & d) | (cc & d);
			k = 0x8f1bbcdc;
		} else {
			f = b ^ cc ^ d;
			k = 0xca62c1d6;
		}
		uint32_t t = rol(a, 5) + f + e + k + w[i];
		e = d;
		d = cc;
		cc = rol(b, 30);
		b = a;
		a = t;
	}
	c->h[0] += a;
	c->h[1] += b;
	c->h[2] += cc;
	c->h[3] += d;
	c->h[4] += e;
}

static void sha1_update(struct sha1 *c, const unsigned char *p, size_t len)
{
	c->total += len;
	while (len) {
		size_t n = 64 - c->used < len ? 64 - c->used : len;
		memcpy(c->block + c->used, p, n);
		c->used += n;
		p += n;
		len -= n;
		if (c->used == 64) {
			sha1_block(c, c->block);
			c->used = 0;
		}
	}
}

void sha1_digest(const void *data, size_t len, unsigned char digest[20])
{
	struct sha1 c = {{0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0}, {0}, 0, 0};
	sha1_update(&c, data, len);
	uint64_t bits = c.total * 8;
	unsigned char pad = 0x80, zero = 0, lenbuf[8];
	sha1_update(&c, &pad, 1);
	while (c.used != 56)
		sha1_update(&c, &zero, 1);
	for (int i = 0; i < 8; i++)
		lenbuf[i] = (unsigned char)(bits >> (56 - 8 * i));
	sha1_update(&c, lenbuf, 8);
	for (int i = 0; i < 5; i++) {
		digest[4 * i] = (unsigned char)(c.h[i] >> 24);
		digest[4 * i + 1] = (unsigned char)(c.h[i] >> 16);
		digest[4 * i + 2] = (unsigned char)(c.h[i] >> 8);
		digest[4 * i + 3] = (unsigned char)c.h[i];
	}
}
