/* Standard base64 (RFC 4648, padded) for []byte fields in Kubernetes JSON. */
#ifndef COIL_BASE64_H
#define COIL_BASE64_H

#include <stddef.h>

/* malloc'd, NUL-terminated encoding of data (caller frees), or NULL on ENOMEM. */
char *base64_encode(const void *data, size_t len);

/* Decodes padded base64 without whitespace into a malloc'd, NUL-terminated buffer (*out,
 * caller frees; *len bytes). Returns 0, -EINVAL or -ENOMEM. */
int base64_decode(const char *text, char **out, size_t *len);

/* The same decoding, but whitespace is skipped and the padding may be left out, as
 * kubeconfig's *-data fields are written by hand. Returns 0, -EINVAL or -ENOMEM. */
int base64_decode_lenient(const char *text, char **out, size_t *len);

#endif
