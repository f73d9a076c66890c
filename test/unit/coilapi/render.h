/* One-line renderings of decoded Coil objects, so that table tests compare one string. */
#ifndef COIL_TEST_COILAPI_RENDER_H
#define COIL_TEST_COILAPI_RENDER_H

#include "coilapi/coilapi.h"

#include <stddef.h>

/* A decoder plus a renderer and an encoder of one kind, by the kind's name. */
struct codec {
	const char *kind;
	/* Decodes obj, renders the result into out and, when enc is not NULL, sets *enc to the
	 * encoding (caller decrefs). Returns what the decoder returned. */
	int (*run)(const json_t *obj, char *out, size_t len, json_t **enc, char *err,
		   size_t errlen);
};

const struct codec *codec_find(const char *kind);

#endif
