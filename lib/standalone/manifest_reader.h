/* Internal to the manifest parser: the state of reading a stream of documents (already
 * converted to JSON by lib/yamljson) and the readers of the object kinds it keeps. */
#ifndef COIL_STANDALONE_MANIFEST_READER_H
#define COIL_STANDALONE_MANIFEST_READER_H

#include <jansson.h>
#include <stddef.h>

#include "standalone/standalone.h"

struct manifest_reader {
	struct standalone_manifest *m; /* what has been kept so far */
	size_t pools_cap, namespaces_cap;
	char where[64]; /* "document 2" or "document 2, items[3]" */
	char *err;
	size_t errlen;
};

/* Writes "<where>: <message>" to the error buffer; returns -EINVAL. */
int reader_fail(struct manifest_reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Writes "<where>: out of memory"; returns -ENOMEM. */
int reader_oom(struct manifest_reader *r);

/* The string member `key` of obj (borrowed), NULL when absent or null. `path` is the key's
 * field path for messages. Fails when the value is not a string or holds a NUL byte; with
 * `required`, also when it is absent, null or empty. */
int reader_string(struct manifest_reader *r, const json_t *obj, const char *key, const char *path,
		  bool required, const char **out);

/* Add an AddressPool / a Namespace object (a JSON object, borrowed) to r->m. */
int read_address_pool(struct manifest_reader *r, const json_t *obj);
int read_namespace(struct manifest_reader *r, const json_t *obj);

#endif
