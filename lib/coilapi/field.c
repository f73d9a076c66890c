/* Typed reading of JSON members; every error names the field path. */
#include "internal.h"
#include "err/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void path_key(struct field_path *out, const char *parent, const char *key)
{
	if (parent && *parent)
		snprintf(out->text, sizeof(out->text), "%s.%s", parent, key);
	else
		snprintf(out->text, sizeof(out->text), "%s", key);
}

void path_index(struct field_path *out, const char *parent, size_t index)
{
	snprintf(out->text, sizeof(out->text), "%s[%zu]", parent, index);
}

int field_fail(struct decode_err *e, const char *path, const char *fmt, ...)
{
	char message[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	return errorf(e->buf, e->len, -EINVAL, "%s: %s", path, message);
}

int decode_oom(struct decode_err *e)
{
	return errorf(e->buf, e->len, -ENOMEM, "out of memory");
}

const json_t *member(const json_t *obj, const char *key)
{
	const json_t *value = json_object_get(obj, key);
	return json_is_null(value) ? NULL : value;
}

/* The member at parent.key, its path, and whether a required one is missing. */
static int lookup(struct decode_err *e, const json_t *obj, const char *parent, const char *key,
		  bool required, struct field_path *path, const json_t **value)
{
	path_key(path, parent, key);
	*value = member(obj, key);
	if (!*value && required)
		return field_fail(e, path->text, "Required value");
	return 0;
}

/* The member at parent.key when it has JSON type `type`; `what` names the type in messages. */
static int read_typed(struct decode_err *e, const json_t *obj, const char *parent, const char *key,
		      bool required, json_type type, const char *what, const json_t **out)
{
	struct field_path path;
	const json_t *v;
	int ret = lookup(e, obj, parent, key, required, &path, &v);
	if (ret || !v)
		return ret;
	if (json_typeof(v) != type)
		return field_fail(e, path.text, "must be %s", what);
	*out = v;
	return 0;
}

int read_object(struct decode_err *e, const json_t *obj, const char *parent, const char *key,
		bool required, const json_t **out)
{
	return read_typed(e, obj, parent, key, required, JSON_OBJECT, "an object", out);
}

int read_array(struct decode_err *e, const json_t *obj, const char *parent, const char *key,
	       bool required, const json_t **out)
{
	return read_typed(e, obj, parent, key, required, JSON_ARRAY, "an array", out);
}

int read_string(struct decode_err *e, const json_t *obj, const char *parent, const char *key,
		bool required, const char **out)
{
	struct field_path path;
	const json_t *v;
	int ret = lookup(e, obj, parent, key, required, &path, &v);
	if (ret || !v)
		return ret;
	/* A NUL byte would silently cut the text everywhere it is used as a C string. */
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return field_fail(e, path.text, "must be a string");
	if (required && json_string_length(v) == 0)
		return field_fail(e, path.text, "Required value");
	*out = json_string_value(v);
	return 0;
}

int read_int32(struct decode_err *e, const json_t *obj, const char *parent, const char *key,
	       int32_t min, int32_t *out)
{
	struct field_path path;
	const json_t *v;
	int ret = lookup(e, obj, parent, key, false, &path, &v);
	if (ret || !v)
		return ret;
	if (!json_is_integer(v) || json_integer_value(v) < INT32_MIN ||
	    json_integer_value(v) > INT32_MAX)
		return field_fail(e, path.text, "must be a 32-bit integer");
	json_int_t value = json_integer_value(v);
	if (value < min)
		return field_fail(e, path.text,
				  "Invalid value: %lld: must be greater than or equal to %d",
				  (long long)value, (int)min);
	*out = (int32_t)value;
	return 0;
}

int read_bool(struct decode_err *e, const json_t *obj, const char *parent, const char *key,
	      bool *out)
{
	struct field_path path;
	const json_t *v;
	int ret = lookup(e, obj, parent, key, false, &path, &v);
	if (ret || !v)
		return ret;
	if (!json_is_boolean(v))
		return field_fail(e, path.text, "must be a boolean");
	*out = json_is_true(v);
	return 0;
}

int read_int_or_string(struct decode_err *e, const json_t *obj, const char *parent, const char *key,
		       const json_t **out)
{
	struct field_path path;
	const json_t *v;
	int ret = lookup(e, obj, parent, key, false, &path, &v);
	if (ret || !v)
		return ret;
	bool int32 = json_is_integer(v) && json_integer_value(v) >= INT32_MIN &&
		     json_integer_value(v) <= INT32_MAX;
	if (!int32 && !json_is_string(v))
		return field_fail(e, path.text, "must be a 32-bit integer or a string");
	*out = v;
	return 0;
}

int read_string_map(struct decode_err *e, const json_t *obj, const char *parent, const char *key,
		    const json_t **out)
{
	const json_t *map = NULL;
	int ret = read_object(e, obj, parent, key, false, &map);
	if (ret || !map)
		return ret;
	struct field_path path;
	path_key(&path, parent, key);
	const char *k;
	const json_t *v;
	json_object_foreach((json_t *)map, k, v)
	{
		if (!json_is_string(v)) {
			char item[sizeof(path.text) + 72];
			snprintf(item, sizeof(item), "%s[%.64s]", path.text, k);
			return field_fail(e, item, "must be a string");
		}
	}
	*out = map;
	return 0;
}
