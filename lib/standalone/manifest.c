/* The manifest stream: YAML documents read into JSON by lib/yamljson, `kind: List`
 * containers, and dispatch by kind. */
#include "standalone/manifest_reader.h"
#include "coilapi/coilapi.h"
#include "yamljson/yamljson.h"
#include "log/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int reader_fail(struct manifest_reader *r, const char *fmt, ...)
{
	char message[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	snprintf(r->err, r->errlen, "%s: %s", r->where, message);
	return -EINVAL;
}

int reader_oom(struct manifest_reader *r)
{
	reader_fail(r, "out of memory");
	return -ENOMEM;
}

int reader_string(struct manifest_reader *r, const json_t *obj, const char *key, const char *path,
		  bool required, const char **out)
{
	const json_t *value = json_object_get(obj, key);
	*out = NULL;
	if (!value || json_is_null(value)) {
		if (required)
			return reader_fail(r, "%s: Required value", path);
		return 0;
	}
	const char *text = json_string_value(value);
	if (!text || strlen(text) != json_string_length(value))
		return reader_fail(r, "%s: must be a string", path);
	if (required && !*text)
		return reader_fail(r, "%s: Required value", path);
	*out = text;
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int read_object(struct manifest_reader *r, const json_t *obj, bool in_list);

/* kubectl's List (and <Kind>List) containers: each item is an object. */
static int read_list(struct manifest_reader *r, const json_t *list)
{
	const json_t *items = json_object_get(list, "items");
	if (!items || json_is_null(items))
		return 0;
	if (!json_is_array(items))
		return reader_fail(r, "items: must be a list");
	char outer[sizeof(r->where)];
	memcpy(outer, r->where, sizeof(outer));
	size_t i;
	const json_t *item;
	json_array_foreach(items, i, item)
	{
		snprintf(r->where, sizeof(r->where), "%.30s, items[%zu]", outer, i);
		int ret = read_object(r, item, true);
		if (ret < 0)
			return ret;
	}
	memcpy(r->where, outer, sizeof(outer));
	return 0;
}

static int read_object(struct manifest_reader *r, const json_t *obj, bool in_list)
{
	if (json_is_null(obj) && !in_list)
		return 0; /* an empty document, e.g. after a trailing "---" */
	if (!json_is_object(obj))
		return reader_fail(r, "must be a mapping (an object)");
	const char *api_version, *kind;
	int ret = reader_string(r, obj, "apiVersion", "apiVersion", true, &api_version);
	if (ret == 0)
		ret = reader_string(r, obj, "kind", "kind", true, &kind);
	if (ret < 0)
		return ret;

	if (strcmp(kind, COILAPI_KIND_ADDRESSPOOL) == 0 &&
	    strcmp(api_version, COILAPI_API_VERSION) == 0)
		return read_address_pool(r, obj);
	if (strcmp(kind, "Namespace") == 0 && strcmp(api_version, "v1") == 0)
		return read_namespace(r, obj);
	if (ends_with(kind, "List")) {
		if (in_list)
			return reader_fail(r, "kind: a %s inside a list is not supported", kind);
		return read_list(r, obj);
	}
	log_info("manifest: ignoring an object of another kind", "where", r->where, "apiVersion",
		 api_version, "kind", kind);
	return 0;
}

static int read_document(const json_t *doc, size_t number, void *ctx, char *err, size_t errlen)
{
	struct manifest_reader *r = ctx;
	(void)err;
	(void)errlen; /* r carries the same buffer */
	snprintf(r->where, sizeof(r->where), "document %zu", number);
	return read_object(r, doc, false);
}

/* Kubernetes reads manifests with typed scalars, anchors and aliases allowed, and a key
 * given twice in a mapping refused. */
#define MANIFEST_YAML_FLAGS (YAMLJSON_TYPED | YAMLJSON_ALIASES | YAMLJSON_UNIQUE_KEYS)

int standalone_manifest_parse(const char *text, size_t len, struct standalone_manifest *out,
			      char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	struct manifest_reader r = {.m = out, .err = err, .errlen = errlen};
	int ret =
	    yamljson_parse_stream(text, len, MANIFEST_YAML_FLAGS, read_document, &r, err, errlen);
	if (ret < 0)
		standalone_manifest_free(out);
	return ret;
}

void standalone_manifest_free(struct standalone_manifest *m)
{
	for (size_t i = 0; i < m->npools; i++) {
		struct standalone_pool *p = &m->pools[i];
		for (size_t j = 0; j < p->nsubnets; j++) {
			free(p->subnets[j].ipv4);
			free(p->subnets[j].ipv6);
		}
		free(p->subnets);
		free(p->name);
	}
	for (size_t i = 0; i < m->nnamespaces; i++) {
		free(m->namespaces[i].name);
		free(m->namespaces[i].pool);
	}
	free(m->pools);
	free(m->namespaces);
	memset(m, 0, sizeof(*m));
}

const struct standalone_pool *standalone_manifest_pool(const struct standalone_manifest *m,
						       const char *name)
{
	for (size_t i = 0; i < m->npools; i++) {
		if (strcmp(m->pools[i].name, name) == 0)
			return &m->pools[i];
	}
	return NULL;
}
