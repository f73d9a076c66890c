/* Standard base64 (RFC 4648, padded), as JSON carries []byte fields: Secret data, caBundle,
 * admission patches. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base64/base64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *base64_encode(const void *data, size_t len)
{
	const unsigned char *in = data;
	char *out = malloc((len + 2) / 3 * 4 + 1);
	if (!out)
		return NULL;
	char *w = out;
	for (size_t i = 0; i < len; i += 3) {
		unsigned long chunk = (unsigned long)in[i] << 16;
		if (i + 1 < len)
			chunk |= (unsigned long)in[i + 1] << 8;
		if (i + 2 < len)
			chunk |= in[i + 2];
		*w++ = alphabet[(chunk >> 18) & 63];
		*w++ = alphabet[(chunk >> 12) & 63];
		*w++ = i + 1 < len ? alphabet[(chunk >> 6) & 63] : '=';
		*w++ = i + 2 < len ? alphabet[chunk & 63] : '=';
	}
	*w = '\0';
	return out;
}

/* The 6-bit value of c, or -1. */
static int sextet(char c)
{
	const char *p = c ? strchr(alphabet, c) : NULL;
	return p ? (int)(p - alphabet) : -1;
}

/* Decodes one group of four characters (with pad padding characters at its end). */
static int decode_group(const char *g, int pad, unsigned char *w)
{
	unsigned long chunk = 0;
	for (int k = 0; k < 4; k++) {
		int v = k < 4 - pad ? sextet(g[k]) : 0;
		if (v < 0 || (k >= 4 - pad && g[k] != '='))
			return -EINVAL;
		chunk = chunk << 6 | (unsigned long)v;
	}
	w[0] = (unsigned char)(chunk >> 16);
	w[1] = (unsigned char)(chunk >> 8);
	w[2] = (unsigned char)chunk;
	return 0;
}

int base64_decode(const char *text, char **out, size_t *len)
{
	size_t n = strlen(text);
	*out = NULL;
	*len = 0;
	if (n % 4)
		return -EINVAL;
	unsigned char *buf = malloc(n / 4 * 3 + 1);
	if (!buf)
		return -ENOMEM;
	size_t used = 0;
	for (size_t i = 0; i < n; i += 4) {
		int pad = 0;
		if (i + 4 == n)
			pad = text[i + 3] == '=' ? (text[i + 2] == '=' ? 2 : 1) : 0;
		if (decode_group(text + i, pad, buf + used) < 0) {
			free(buf);
			return -EINVAL;
		}
		used += 3 - (size_t)pad;
	}
	buf[used] = '\0';
	*out = (char *)buf;
	*len = used;
	return 0;
}
