/* Base64 for the JSONPatch field of AdmissionResponse (Go's []byte in JSON). */
#include "internal.h"

#include <stdlib.h>

char *base64_encode(const unsigned char *data, size_t len)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc((len + 2) / 3 * 4 + 1);
	if (!out)
		return NULL;
	char *w = out;
	for (size_t i = 0; i < len; i += 3) {
		unsigned long chunk = (unsigned long)data[i] << 16;
		if (i + 1 < len)
			chunk |= (unsigned long)data[i + 1] << 8;
		if (i + 2 < len)
			chunk |= data[i + 2];
		*w++ = alphabet[(chunk >> 18) & 63];
		*w++ = alphabet[(chunk >> 12) & 63];
		*w++ = i + 1 < len ? alphabet[(chunk >> 6) & 63] : '=';
		*w++ = i + 2 < len ? alphabet[chunk & 63] : '=';
	}
	*w = '\0';
	return out;
}
