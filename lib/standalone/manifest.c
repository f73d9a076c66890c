/* The manifest stream: documents, `kind: List` containers, and dispatch by kind. */
#include "standalone/manifest_reader.h"
#include "standalone/yaml_node.h"
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

int reader_string(struct manifest_reader *r, const yaml_node_t *map, const char *key,
		  const char *path, bool required, const char **out)
{
	*out = NULL;
	yaml_node_t *value;
	if (ymap_get(r->doc, map, key, &value) < 0)
		return reader_fail(r, "%s: duplicate key", path);
	if (ynode_is_null(value)) {
		if (required)
			return reader_fail(r, "%s: Required value", path);
		return 0;
	}
	if (yscalar_text(value, out) < 0)
		return reader_fail(r, "%s: must be a string", path);
	if (required && !**out)
		return reader_fail(r, "%s: Required value", path);
	return 0;
}

int reader_mapping(struct manifest_reader *r, const yaml_node_t *map, const char *key,
		   const char *path, yaml_node_t **out)
{
	if (ymap_get(r->doc, map, key, out) < 0)
		return reader_fail(r, "%s: duplicate key", path);
	if (ynode_is_null(*out)) {
		*out = NULL;
		return 0;
	}
	if ((*out)->type != YAML_MAPPING_NODE)
		return reader_fail(r, "%s: must be a mapping", path);
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int read_object(struct manifest_reader *r, const yaml_node_t *obj, bool in_list);

/* kubectl's List (and <Kind>List) containers: each item is an object. */
static int read_list(struct manifest_reader *r, const yaml_node_t *list)
{
	yaml_node_t *items;
	if (ymap_get(r->doc, list, "items", &items) < 0)
		return reader_fail(r, "items: duplicate key");
	if (ynode_is_null(items))
		return 0;
	if (items->type != YAML_SEQUENCE_NODE)
		return reader_fail(r, "items: must be a list");
	char outer[sizeof(r->where)];
	memcpy(outer, r->where, sizeof(outer));
	size_t i = 0;
	for (yaml_node_item_t *it = items->data.sequence.items.start;
	     it < items->data.sequence.items.top; it++, i++) {
		snprintf(r->where, sizeof(r->where), "%.30s, items[%zu]", outer, i);
		int ret = read_object(r, yaml_document_get_node(r->doc, *it), true);
		if (ret < 0)
			return ret;
	}
	memcpy(r->where, outer, sizeof(outer));
	return 0;
}

static int read_object(struct manifest_reader *r, const yaml_node_t *obj, bool in_list)
{
	if (ynode_is_null(obj) && !in_list)
		return 0; /* an empty document, e.g. after a trailing "---" */
	if (!obj || obj->type != YAML_MAPPING_NODE)
		return reader_fail(r, "must be a mapping (an object)");
	const char *api_version, *kind;
	int ret = reader_string(r, obj, "apiVersion", "apiVersion", true, &api_version);
	if (ret == 0)
		ret = reader_string(r, obj, "kind", "kind", true, &kind);
	if (ret < 0)
		return ret;

	if (strcmp(kind, "AddressPool") == 0 && strcmp(api_version, "coil.cybozu.com/v2") == 0)
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

static int yaml_error(struct manifest_reader *r, const yaml_parser_t *parser)
{
	return reader_fail(r, "invalid YAML at line %zu column %zu: %s",
			   parser->problem_mark.line + 1, parser->problem_mark.column + 1,
			   parser->problem ? parser->problem : "unknown error");
}

/* Loads and reads the documents one by one; stops at the first error. */
static int read_stream(struct manifest_reader *r, yaml_parser_t *parser)
{
	for (size_t number = 1;; number++) {
		snprintf(r->where, sizeof(r->where), "document %zu", number);
		yaml_document_t doc;
		if (!yaml_parser_load(parser, &doc))
			return yaml_error(r, parser);
		yaml_node_t *root = yaml_document_get_root_node(&doc);
		if (!root) { /* the end of the stream */
			yaml_document_delete(&doc);
			return 0;
		}
		r->doc = &doc;
		int ret = read_object(r, root, false);
		r->doc = NULL;
		yaml_document_delete(&doc);
		if (ret < 0)
			return ret;
	}
}

int standalone_manifest_parse(const char *text, size_t len, struct standalone_manifest *out,
			      char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	struct manifest_reader r = {.m = out, .err = err, .errlen = errlen};
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, errlen, "manifest: cannot initialize the YAML parser");
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	int ret = read_stream(&r, &parser);
	yaml_parser_delete(&parser);
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
