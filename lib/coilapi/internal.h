/* Internal to lib/coilapi: typed reading of JSON members with field paths in the errors, and
 * the pieces every object shares. */
#ifndef COIL_COILAPI_INTERNAL_H
#define COIL_COILAPI_INTERNAL_H

#include "coilapi.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where errors go while decoding one object. */
struct decode_err {
	char *buf;
	size_t len;
};

/* A field path: the parent's path plus ".key" or "[index]". */
struct field_path {
	char text[160];
};

void path_key(struct field_path *out, const char *parent, const char *key);
void path_index(struct field_path *out, const char *parent, size_t index);

/* Writes "<path>: <message>" and returns -EINVAL. */
int field_fail(struct decode_err *e, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int decode_oom(struct decode_err *e);

/* obj[key] with JSON null read as absent (NULL). obj may be NULL. */
const json_t *member(const json_t *obj, const char *key);

/* Each reads obj[key] at path parent.key. Absent or null: *out untouched (a default may be
 * preset) and 0, or with `required` "Required value". Wrong type: "must be ...". */
int read_object(struct decode_err *e, const json_t *obj, const char *parent, const char *key,
		bool required, const json_t **out);
int read_array(struct decode_err *e, const json_t *obj, const char *parent, const char *key,
	       bool required, const json_t **out);
/* A string without NUL bytes; `required` also rejects "". */
int read_string(struct decode_err *e, const json_t *obj, const char *parent, const char *key,
		bool required, const char **out);
/* An int32 of at least min. */
int read_int32(struct decode_err *e, const json_t *obj, const char *parent, const char *key,
	       int32_t min, int32_t *out);
int read_bool(struct decode_err *e, const json_t *obj, const char *parent, const char *key,
	      bool *out);
/* An int-or-string (kept as JSON, borrowed). */
int read_int_or_string(struct decode_err *e, const json_t *obj, const char *parent, const char *key,
		       const json_t **out);
/* A map of string to string (kept as JSON, borrowed). */
int read_string_map(struct decode_err *e, const json_t *obj, const char *parent, const char *key,
		    const json_t **out);

/* The object itself and its metadata: obj must be an object; metadata an object or absent;
 * metadata.name and (when namespace is not NULL) metadata.namespace strings or "". */
int read_metadata(struct decode_err *e, const json_t *obj, const char **name,
		  const char **namespace);
/* metadata.uid as a string or "". */
int read_uid(struct decode_err *e, const json_t *obj, const char **uid);
/* metadata.labels[key] as a string or NULL. */
int read_label(struct decode_err *e, const json_t *obj, const char *key, const char **out);

/* {apiVersion, kind, metadata{name[, namespace]}}: the start of every encoded object. */
json_t *encode_head(const char *kind, const char *name, const char *namespace);
/* Sets obj[key] to a new string when text is not NULL; false when out of memory. */
bool set_string(json_t *obj, const char *key, const char *text);
/* Sets obj[key] to a deep copy of value when it is not NULL. */
bool set_copy(json_t *obj, const char *key, const json_t *value);

#endif
