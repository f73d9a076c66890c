/* Standard base64 (RFC 4648 section 4) decoding for kubeconfig's *-data fields. */
#include "internal.h"

#include <stdlib.h>

static int sextet(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t';
}

int kube_base64_decode(const char *in, size_t len, char **out, size_t *outlen)
{
	char *buf = malloc(len / 4 * 3 + 4);
	if (!buf)
		return -ENOMEM;
	uint32_t acc = 0;
	size_t n = 0, bits = 0, pad = 0, data_chars = 0;
	for (size_t i = 0; i < len; i++) {
		if (is_space(in[i]))
			continue;
		if (in[i] == '=') {
			pad++;
			continue;
		}
		int v = sextet(in[i]);
		if (v < 0 || pad > 0)
			goto invalid; /* junk, or data after padding */
		data_chars++;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	/* A lone sextet cannot encode a byte; padding, if present, must complete the quantum. */
	if (data_chars % 4 == 1 || pad > 2 || (pad > 0 && (data_chars + pad) % 4 != 0))
		goto invalid;
	buf[n] = '\0';
	*out = buf;
	*outlen = n;
	return 0;
invalid:
	free(buf);
	return -EINVAL;
}
