/* Standard base64 (RFC 4648, padded), as JSON carries []byte fields: Secret data, caBundle,
 * admission patches. */
#include <errno.h>
#include <stdbool.h>
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

static bool is_space(char c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* The one decoder. strict: padding required, no whitespace (JSON []byte fields); otherwise
 * whitespace is skipped and padding may be left out (kubeconfig's *-data fields). */
static int decode(const char *text, bool strict, char **out, size_t *len)
{
	size_t n = strlen(text), used = 0, data_chars = 0, pad = 0, bits = 0;
	unsigned long acc = 0;
	*out = NULL;
	*len = 0;
	unsigned char *buf = malloc(n / 4 * 3 + 4);
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (!strict && is_space(text[i]))
			continue;
		if (text[i] == '=') {
			pad++;
			continue;
		}
		int v = sextet(text[i]);
		if (v < 0 || pad > 0)
			goto invalid; /* junk, or data after padding */
		data_chars++;
		acc = (acc << 6 | (unsigned long)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[used++] = (unsigned char)(acc >> bits);
		}
	}
	/* A lone sextet cannot encode a byte; padding, when present, completes the quantum. */
	bool complete = (data_chars + pad) % 4 == 0;
	if (data_chars % 4 == 1 || pad > 2 || (pad > 0 && !complete) || (strict && !complete))
		goto invalid;
	buf[used] = '\0';
	*out = (char *)buf;
	*len = used;
	return 0;
invalid:
	free(buf);
	return -EINVAL;
}

int base64_decode(const char *text, char **out, size_t *len)
{
	return decode(text, true, out, len);
}

int base64_decode_lenient(const char *text, char **out, size_t *len)
{
	return decode(text, false, out, len);
}
