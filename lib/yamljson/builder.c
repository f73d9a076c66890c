/* The event-driven builder: one JSON value per YAML node, with the key path kept for error
 * messages, anchors for aliases and the node budget. */
#include "yamljson.h"
#include "internal.h"
#include "err/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define YAML_MAX_DEPTH 64
/* Nodes one stream may produce, an alias counting as the nodes it names: far above any
 * manifest or kubeconfig, far below what an exponential alias bomb asks for. */
#define YAML_MAX_NODES (1u << 20)

struct anchor {
	char *name;    /* owned */
	json_t *value; /* owned reference */
	size_t nodes;  /* nodes of the anchored value, counting nested aliases */
};

struct builder {
	yaml_parser_t parser;
	unsigned flags;
	struct anchor *anchors; /* owned array */
	size_t n_anchors, cap_anchors;
	size_t nodes;
	char path[256]; /* key path of the node being built, e.g. "spec.subnets[0]" */
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4))) static int fail(struct builder *b, int code, const char *fmt,
						      ...)
{
	va_list ap;
	va_start(ap, fmt);
	int ret = verrorf(b->err, b->errlen, code, fmt, ap);
	va_end(ap);
	return ret;
}

static int next_event(struct builder *b, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&b->parser, ev))
		return fail(b, -EINVAL, "invalid YAML at line %zu column %zu: %s",
			    b->parser.problem_mark.line + 1, b->parser.problem_mark.column + 1,
			    b->parser.problem ? b->parser.problem : "syntax error");
	return 0;
}

/* "<path>: " for messages, or "" at the root. */
static const char *path_prefix(const struct builder *b, char *buf, size_t len)
{
	if (!b->path[0])
		return "";
	snprintf(buf, len, "%s: ", b->path);
	return buf;
}

static int count_node(struct builder *b, size_t n)
{
	char prefix[300];
	b->nodes += n;
	if (b->nodes > YAML_MAX_NODES)
		return fail(b, -EINVAL, "%sYAML: more than %u nodes (alias expansion)",
			    path_prefix(b, prefix, sizeof(prefix)), YAML_MAX_NODES);
	return 0;
}

static void anchors_free(struct builder *b)
{
	for (size_t i = 0; i < b->n_anchors; i++) {
		free(b->anchors[i].name);
		json_decref(b->anchors[i].value);
	}
	free(b->anchors);
}

/* Remembers a finished anchored node (a later anchor of the same name replaces it). */
static int anchor_add(struct builder *b, const unsigned char *name, json_t *value, size_t nodes)
{
	if (b->n_anchors == b->cap_anchors) {
		size_t cap = b->cap_anchors ? b->cap_anchors * 2 : 8;
		struct anchor *grown = reallocarray(b->anchors, cap, sizeof(*grown));
		if (!grown)
			return fail(b, -ENOMEM, "YAML: out of memory");
		b->anchors = grown;
		b->cap_anchors = cap;
	}
	char *copy = strdup((const char *)name);
	if (!copy)
		return fail(b, -ENOMEM, "YAML: out of memory");
	b->anchors[b->n_anchors++] = (struct anchor){copy, json_incref(value), nodes};
	return 0;
}

/* An alias: the latest finished anchor of that name. An anchor whose node is still being
 * built is not found, so a value can never contain itself. */
static int alias_value(struct builder *b, const yaml_event_t *ev, json_t **out)
{
	char prefix[300];
	if (!(b->flags & YAMLJSON_ALIASES))
		return fail(b, -EINVAL, "%sYAML aliases are not supported",
			    path_prefix(b, prefix, sizeof(prefix)));
	for (size_t i = b->n_anchors; i-- > 0;) {
		if (strcmp(b->anchors[i].name, (const char *)ev->data.alias.anchor) == 0) {
			int ret = count_node(b, b->anchors[i].nodes);
			if (ret)
				return ret;
			*out = json_incref(b->anchors[i].value);
			return 0;
		}
	}
	return fail(b, -EINVAL, "%sYAML alias to an unknown anchor \"%.64s\"",
		    path_prefix(b, prefix, sizeof(prefix)), (const char *)ev->data.alias.anchor);
}

static int parse_node(struct builder *b, yaml_event_t *first, int depth, json_t **out);

/* Appends ".key" or "[i]" to the path for the duration of a child; returns the old end. */
static size_t path_push(struct builder *b, const char *key, size_t index)
{
	size_t end = strlen(b->path);
	if (key)
		snprintf(b->path + end, sizeof(b->path) - end, "%s%s", end ? "." : "", key);
	else
		snprintf(b->path + end, sizeof(b->path) - end, "[%zu]", index);
	return end;
}

static int map_entry(struct builder *b, json_t *map, yaml_event_t *key_ev, int depth)
{
	char prefix[300];
	if (key_ev->type != YAML_SCALAR_EVENT) {
		yaml_event_delete(key_ev);
		return fail(b, -EINVAL, "%sYAML mapping keys must be scalars",
			    path_prefix(b, prefix, sizeof(prefix)));
	}
	json_t *key =
	    json_stringn((const char *)key_ev->data.scalar.value, key_ev->data.scalar.length);
	yaml_event_delete(key_ev);
	if (!key)
		return fail(b, -EINVAL, "%sYAML key is not UTF-8",
			    path_prefix(b, prefix, sizeof(prefix)));
	const char *name = json_string_value(key);
	size_t end = path_push(b, name, 0);
	int ret = 0;
	if ((b->flags & YAMLJSON_UNIQUE_KEYS) && json_object_get(map, name))
		ret = fail(b, -EINVAL, "%s: duplicate key", b->path);
	yaml_event_t ev;
	json_t *value = NULL;
	if (ret == 0 && (ret = next_event(b, &ev)) == 0)
		ret = parse_node(b, &ev, depth + 1, &value);
	if (ret == 0 && json_object_set_new(map, name, value) < 0)
		ret = fail(b, -EINVAL, "%s: YAML key holds a NUL byte", b->path);
	b->path[end] = '\0';
	json_decref(key);
	return ret;
}

static int parse_mapping(struct builder *b, int depth, json_t **out)
{
	json_t *map = json_object();
	yaml_event_t ev;
	int ret;
	if (!map)
		return fail(b, -ENOMEM, "YAML: out of memory");
	while ((ret = next_event(b, &ev)) == 0 && ev.type != YAML_MAPPING_END_EVENT) {
		ret = map_entry(b, map, &ev, depth);
		if (ret)
			break;
	}
	if (ret == 0)
		yaml_event_delete(&ev);
	if (ret) {
		json_decref(map);
		return ret;
	}
	*out = map;
	return 0;
}

static int parse_sequence(struct builder *b, int depth, json_t **out)
{
	json_t *seq = json_array();
	yaml_event_t ev;
	int ret;
	if (!seq)
		return fail(b, -ENOMEM, "YAML: out of memory");
	for (size_t i = 0; (ret = next_event(b, &ev)) == 0 && ev.type != YAML_SEQUENCE_END_EVENT;
	     i++) {
		json_t *value = NULL;
		size_t end = path_push(b, NULL, i);
		ret = parse_node(b, &ev, depth + 1, &value);
		b->path[end] = '\0';
		if (ret)
			break;
		json_array_append_new(seq, value);
	}
	if (ret == 0)
		yaml_event_delete(&ev);
	if (ret) {
		json_decref(seq);
		return ret;
	}
	*out = seq;
	return 0;
}

static int scalar_value(struct builder *b, const yaml_event_t *ev, json_t **out)
{
	const char *why;
	char prefix[300];
	*out = yamljson_scalar(ev, b->flags & YAMLJSON_TYPED, &why);
	if (!*out)
		return fail(b, -EINVAL, "%sYAML scalar \"%.64s\": %s",
			    path_prefix(b, prefix, sizeof(prefix)),
			    (const char *)ev->data.scalar.value, why);
	return 0;
}

/* The anchor of a node's first event (a copy, or NULL). */
static unsigned char *event_anchor(const yaml_event_t *ev)
{
	const unsigned char *a = NULL;
	if (ev->type == YAML_SCALAR_EVENT)
		a = ev->data.scalar.anchor;
	else if (ev->type == YAML_MAPPING_START_EVENT)
		a = ev->data.mapping_start.anchor;
	else if (ev->type == YAML_SEQUENCE_START_EVENT)
		a = ev->data.sequence_start.anchor;
	return a ? (unsigned char *)strdup((const char *)a) : NULL;
}

static int node_value(struct builder *b, yaml_event_t *first, int depth, json_t **out)
{
	yaml_event_type_t type = first->type;
	int ret = 0;
	if (type == YAML_SCALAR_EVENT)
		ret = scalar_value(b, first, out);
	else if (type == YAML_ALIAS_EVENT)
		ret = alias_value(b, first, out);
	yaml_event_delete(first);
	if (type == YAML_SCALAR_EVENT || type == YAML_ALIAS_EVENT)
		return ret;
	if (type == YAML_MAPPING_START_EVENT)
		return parse_mapping(b, depth, out);
	if (type == YAML_SEQUENCE_START_EVENT)
		return parse_sequence(b, depth, out);
	return fail(b, -EINVAL, "YAML: unexpected event %d", (int)type);
}

/* Consumes first (deleting it) and the rest of its node. */
static int parse_node(struct builder *b, yaml_event_t *first, int depth, json_t **out)
{
	if (depth > YAML_MAX_DEPTH) {
		yaml_event_delete(first);
		return fail(b, -EINVAL, "YAML: nested deeper than %d", YAML_MAX_DEPTH);
	}
	int ret = count_node(b, first->type == YAML_ALIAS_EVENT ? 0 : 1);
	if (ret) {
		yaml_event_delete(first);
		return ret;
	}
	size_t before = b->nodes;
	unsigned char *anchor = event_anchor(first);
	ret = node_value(b, first, depth, out);
	if (ret == 0 && anchor)
		ret = anchor_add(b, anchor, *out, b->nodes - before + 1);
	if (ret && anchor && *out) {
		json_decref(*out);
		*out = NULL;
	}
	free(anchor);
	return ret;
}

/* The next document's root: 0 with *out (NULL at the end of the stream). */
static int next_document(struct builder *b, json_t **out)
{
	yaml_event_t ev;
	*out = NULL;
	for (;;) {
		int ret = next_event(b, &ev);
		if (ret)
			return ret;
		yaml_event_type_t type = ev.type;
		if (type == YAML_DOCUMENT_START_EVENT) {
			anchors_free(b); /* anchors are scoped to their document */
			b->anchors = NULL;
			b->n_anchors = b->cap_anchors = 0;
		}
		if (type == YAML_STREAM_START_EVENT || type == YAML_DOCUMENT_START_EVENT ||
		    type == YAML_DOCUMENT_END_EVENT) {
			yaml_event_delete(&ev);
			continue;
		}
		if (type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		b->path[0] = '\0';
		return parse_node(b, &ev, 0, out);
	}
}

static int builder_init(struct builder *b, const char *text, size_t len, unsigned flags, char *err,
			size_t errlen)
{
	*b = (struct builder){.flags = flags, .err = err, .errlen = errlen};
	if (!yaml_parser_initialize(&b->parser))
		return fail(b, -ENOMEM, "YAML: out of memory");
	yaml_parser_set_input_string(&b->parser, (const unsigned char *)text, len);
	return 0;
}

static void builder_done(struct builder *b)
{
	yaml_parser_delete(&b->parser);
	anchors_free(b);
}

int yamljson_parse(const char *text, size_t len, unsigned flags, json_t **out, char *err,
		   size_t errlen)
{
	struct builder b;
	*out = NULL;
	int ret = builder_init(&b, text, len, flags, err, errlen);
	if (ret)
		return ret;
	ret = next_document(&b, out);
	builder_done(&b);
	if (ret == 0 && !*out)
		*out = json_object(); /* an empty stream reads as an empty object */
	return ret;
}

int yamljson_parse_stream(const char *text, size_t len, unsigned flags, yamljson_doc_fn fn,
			  void *ctx, char *err, size_t errlen)
{
	struct builder b;
	char inner[512];
	int ret = builder_init(&b, text, len, flags, inner, sizeof(inner));
	for (size_t number = 1; ret == 0; number++) {
		json_t *doc;
		bool before_end = !b.parser.stream_end_produced;
		ret = before_end ? next_document(&b, &doc) : 0;
		if (ret) {
			errorf(err, errlen, ret, "document %zu: %s", number, inner);
			break;
		}
		if (!before_end || !doc)
			break;
		ret = fn(doc, number, ctx, err, errlen);
		json_decref(doc);
	}
	builder_done(&b);
	return ret;
}
