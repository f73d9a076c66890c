/* YAML to JSON (jansson) through libyaml's event API: the one YAML reader of the tree, used
 * for kubeconfig files and for the standalone pool manifests.
 *
 * Two ways to read scalars: as text (every scalar a JSON string; kubeconfig readers interpret
 * "true"/"false" where they expect booleans), or typed: a plain null/Null/NULL/~ or empty
 * scalar is null; true/false (also True/TRUE/False/FALSE, but not YAML 1.1's yes/no/on/off,
 * so that a namespace called "no" keeps its name) are booleans; YAML 1.1 integers (decimal,
 * 0x hex, 0o or leading-0 octal, 0b binary, '_' separators) are integers; decimals are reals;
 * everything else, and every quoted scalar, is a string; explicit !!str, !!int, !!bool,
 * !!null and !!float tags are honoured.
 * Integers too large for json_int_t become reals, so a reader asking for an int32 rejects
 * them instead of seeing a wrapped value.
 *
 * Aliases are refused unless YAMLJSON_ALIASES; when allowed, an alias shares the anchored
 * value (a new reference, no copy) and the total of nodes, counting each alias as the size of
 * what it names, is bounded, which rules out the exponential "billion laughs" expansion.
 * Nesting is bounded too. Errors name the position (line and column) or the key path. */
#ifndef COIL_YAMLJSON_H
#define COIL_YAMLJSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

enum yamljson_flags {
	YAMLJSON_TYPED = 1 << 0,       /* resolve plain scalars (else all strings) */
	YAMLJSON_ALIASES = 1 << 1,     /* allow anchors and aliases */
	YAMLJSON_UNIQUE_KEYS = 1 << 2, /* a key repeated in a mapping is an error */
};

/* The first document of text as JSON. An empty stream is an empty JSON object. On success
 * *out is a new reference the caller json_decref()s. Returns 0 or -EINVAL / -ENOMEM with err
 * set ("invalid YAML at line L column C: ...", "<key path>: duplicate key", ...). */
int yamljson_parse(const char *text, size_t len, unsigned flags, json_t **out, char *err,
		   size_t errlen);

/* Called once per document of a stream with its 1-based number; doc is borrowed (NULL for
 * an empty document is never passed: an empty document is JSON null). A negative return
 * stops the stream and is returned by yamljson_parse_stream(); the callback writes its own
 * message to err. */
typedef int (*yamljson_doc_fn)(const json_t *doc, size_t number, void *ctx, char *err,
			       size_t errlen);

/* Reads the documents of a "---"-separated stream one by one, handing each to fn. Stops at
 * the first YAML error ("document N: invalid YAML at line ...", -EINVAL) or callback error.
 * Returns 0 when every document was read. */
int yamljson_parse_stream(const char *text, size_t len, unsigned flags, yamljson_doc_fn fn,
			  void *ctx, char *err, size_t errlen);

/* ---- writing ---------------------------------------------------------------------- */

/* Writes each element of the array docs (borrowed) as one YAML document, each begun by a
 * "---" line, in block style with mapping keys sorted, as `kubectl apply -f` reads a stream.
 * Strings that a YAML 1.1 reader would take for something else ("true", "no", "10", "",
 * "null", ...) are double-quoted. Returns 0, -EINVAL (docs is not an array) or -EIO with err
 * set. */
int yamljson_emit_stream(FILE *out, const json_t *docs, char *err, size_t errlen);

#endif
