/* JSON to YAML through libyaml's emitter: the one YAML writer of the tree. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "err/err.h"
#include "internal.h"
#include "yamljson/yamljson.h"

/* Words YAML 1.1 readers (go-yaml, which kubectl uses) take for booleans, beyond the ones our
 * own reader resolves. */
static const char *const yaml11_words[] = {"y",	 "Y",	"yes", "Yes", "YES", "n",
					   "N",	 "no",	"No",  "NO",  "on",  "On",
					   "ON", "off", "Off", "OFF", NULL};

static bool needs_quotes(const char *text)
{
	for (const char *const *w = yaml11_words; *w; w++)
		if (strcmp(*w, text) == 0)
			return true;
	return !*text || !yamljson_plain_is_string(text);
}

static int scalar(yaml_emitter_t *em, const char *text, bool plain_ok)
{
	yaml_event_t ev;
	yaml_scalar_style_t style =
	    plain_ok ? YAML_ANY_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	/* Untagged either way: both "implicit" flags set, or libyaml writes a "!" tag when it
	 * has to quote a scalar offered as plain (e.g. "a: b"). */
	if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)text, (int)strlen(text),
					  1, 1, style))
		return -ENOMEM;
	return yaml_emitter_emit(em, &ev) ? 0 : -EIO;
}

static int number(yaml_emitter_t *em, const json_t *value)
{
	char buf[64];
	if (json_is_integer(value))
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(value));
	else
		snprintf(buf, sizeof(buf), "%.17g", json_real_value(value));
	return scalar(em, buf, true);
}

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int node(yaml_emitter_t *em, const json_t *value);

static int mapping(yaml_emitter_t *em, const json_t *obj)
{
	yaml_event_t ev;
	size_t n = json_object_size(obj), i = 0;
	const char **keys = calloc(n ? n : 1, sizeof(*keys));
	const char *key;
	json_t *member;
	if (!keys)
		return -ENOMEM;
	json_object_foreach((json_t *)obj, key, member) keys[i++] = key;
	qsort(keys, n, sizeof(*keys), cmp_keys);
	int ret = yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE)
		      ? (yaml_emitter_emit(em, &ev) ? 0 : -EIO)
		      : -ENOMEM;
	for (i = 0; ret == 0 && i < n; i++) {
		ret = scalar(em, keys[i], !needs_quotes(keys[i]));
		if (ret == 0)
			ret = node(em, json_object_get(obj, keys[i]));
	}
	free(keys);
	if (ret == 0 && yaml_mapping_end_event_initialize(&ev))
		ret = yaml_emitter_emit(em, &ev) ? 0 : -EIO;
	return ret;
}

/* Writes each element of arr with fn (a node, or a whole document). */
static int each(yaml_emitter_t *em, const json_t *arr,
		int (*fn)(yaml_emitter_t *em, const json_t *value))
{
	size_t i;
	const json_t *item;
	json_array_foreach(arr, i, item)
	{
		int ret = fn(em, item);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int sequence(yaml_emitter_t *em, const json_t *arr)
{
	yaml_event_t ev;
	if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE))
		return -ENOMEM;
	if (!yaml_emitter_emit(em, &ev))
		return -EIO;
	int ret = each(em, arr, node);
	if (ret < 0)
		return ret;
	if (!yaml_sequence_end_event_initialize(&ev))
		return -ENOMEM;
	return yaml_emitter_emit(em, &ev) ? 0 : -EIO;
}

static int node(yaml_emitter_t *em, const json_t *value)
{
	switch (json_typeof(value)) {
	case JSON_OBJECT:
		return mapping(em, value);
	case JSON_ARRAY:
		return sequence(em, value);
	case JSON_STRING: {
		const char *text = json_string_value(value);
		return scalar(em, text, !needs_quotes(text));
	}
	case JSON_INTEGER:
	case JSON_REAL:
		return number(em, value);
	case JSON_TRUE:
		return scalar(em, "true", true);
	case JSON_FALSE:
		return scalar(em, "false", true);
	default:
		return scalar(em, "null", true);
	}
}

static int document(yaml_emitter_t *em, const json_t *doc)
{
	yaml_event_t ev;
	if (!yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 0))
		return -ENOMEM;
	if (!yaml_emitter_emit(em, &ev))
		return -EIO;
	int ret = node(em, doc);
	if (ret == 0 && !yaml_document_end_event_initialize(&ev, 1))
		return -ENOMEM;
	return ret == 0 && !yaml_emitter_emit(em, &ev) ? -EIO : ret;
}

static int emit_all(yaml_emitter_t *em, const json_t *docs)
{
	yaml_event_t ev;
	if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) ||
	    !yaml_emitter_emit(em, &ev))
		return -EIO;
	int ret = each(em, docs, document);
	if (ret < 0)
		return ret;
	if (!yaml_stream_end_event_initialize(&ev) || !yaml_emitter_emit(em, &ev))
		return -EIO;
	return yaml_emitter_flush(em) ? 0 : -EIO;
}

int yamljson_emit_stream(FILE *out, const json_t *docs, char *err, size_t errlen)
{
	if (!json_is_array(docs))
		return errorf(err, errlen, -EINVAL, "YAML stream: documents must be an array");
	yaml_emitter_t em;
	if (!yaml_emitter_initialize(&em))
		return errorf(err, errlen, -ENOMEM, "YAML emitter: out of memory");
	yaml_emitter_set_output_file(&em, out);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1); /* never fold long lines */
	int ret = emit_all(&em, docs);
	if (ret < 0)
		errorf(err, errlen, ret, "writing YAML: %s",
		       em.problem ? em.problem : strerror(-ret));
	yaml_emitter_delete(&em);
	return ret;
}
