/* JSON text written straight into a growing buffer, without building a jansson tree, for
 * the paths that run once per pod: the daemon's access log line and the plugin's request.
 * A jansson tree costs a dozen mallocs and a hash table per object; these writers cost one
 * buffer. Reading JSON stays jansson's job. */
#ifndef COIL_JSONW_H
#define COIL_JSONW_H

#include <stdbool.h>
#include <stddef.h>

struct jsonw {
	char *buf; /* owned, NUL-terminated; NULL after a failed allocation */
	size_t len, cap;
	bool strict; /* invalid UTF-8 fails the text instead of becoming U+FFFD */
	bool failed; /* out of memory, or invalid UTF-8 when strict */
};

/* Starts an empty text; strict as above. Always pair with jsonw_take or jsonw_free. */
void jsonw_init(struct jsonw *w, bool strict);
void jsonw_free(struct jsonw *w);

/* The text (malloc'd, the caller's) and its length, or NULL when anything failed; the
 * writer is empty afterwards. */
char *jsonw_take(struct jsonw *w, size_t *len);

/* Appends text as it is (JSON the caller wrote: "{", "}", "true", a number). */
void jsonw_raw(struct jsonw *w, const char *text, size_t len);
/* Appends a JSON string: quoted and escaped (", \, control characters). */
void jsonw_string(struct jsonw *w, const char *text, size_t len);
/* Appends "," unless the text ends in "{", "[" or ":" (the first member or element). */
void jsonw_comma(struct jsonw *w);
/* Appends a member: ,"key":"value"; a NULL value is written as null. */
void jsonw_member(struct jsonw *w, const char *key, const char *value);
/* Appends ,"key": for a value the caller writes next. */
void jsonw_key(struct jsonw *w, const char *key);

#endif
