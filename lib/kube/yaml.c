/* YAML to JSON through libyaml's event API, for kubeconfig files. Every scalar becomes a JSON
 * string; callers interpret "true"/"false" where they expect booleans. Aliases are refused,
 * which rules out the exponential "billion laughs" expansion, and nesting is bounded. */
#include "internal.h"

#include <yaml.h>

#define YAML_MAX_DEPTH 64

struct yaml_builder {
	yaml_parser_t parser;
	char *err;
	size_t errlen;
};

static int parse_node(struct yaml_builder *b, yaml_event_t *first, int depth, json_t **out);

static int next_event(struct yaml_builder *b, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&b->parser, ev))
		return errorf(b->err, b->errlen, -EINVAL, "YAML line %zu: %s",
			      b->parser.problem_mark.line + 1,
			      b->parser.problem ? b->parser.problem : "syntax error");
	return 0;
}

static int parse_mapping(struct yaml_builder *b, int depth, json_t **out)
{
	json_t *map = json_object();
	yaml_event_t ev;
	int ret;
	while ((ret = next_event(b, &ev)) == 0 && ev.type != YAML_MAPPING_END_EVENT) {
		if (ev.type != YAML_SCALAR_EVENT) {
			yaml_event_delete(&ev);
			ret = errorf(b->err, b->errlen, -EINVAL,
				     "YAML line %zu: mapping keys must be scalars",
				     b->parser.mark.line + 1);
			break;
		}
		json_t *key =
		    json_stringn((const char *)ev.data.scalar.value, ev.data.scalar.length);
		yaml_event_delete(&ev);
		json_t *value = NULL;
		if (!key)
			ret = errorf(b->err, b->errlen, -EINVAL, "YAML: key is not UTF-8");
		else if ((ret = next_event(b, &ev)) == 0)
			ret = parse_node(b, &ev, depth + 1, &value);
		if (ret == 0)
			json_object_set_new(map, json_string_value(key), value);
		json_decref(key);
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

static int parse_sequence(struct yaml_builder *b, int depth, json_t **out)
{
	json_t *seq = json_array();
	yaml_event_t ev;
	int ret;
	while ((ret = next_event(b, &ev)) == 0 && ev.type != YAML_SEQUENCE_END_EVENT) {
		json_t *value = NULL;
		ret = parse_node(b, &ev, depth + 1, &value);
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

/* Consumes first (deleting it) and the rest of its node. */
static int parse_node(struct yaml_builder *b, yaml_event_t *first, int depth, json_t **out)
{
	yaml_event_type_t type = first->type;
	int ret = 0;
	if (depth > YAML_MAX_DEPTH) {
		yaml_event_delete(first);
		return errorf(b->err, b->errlen, -EINVAL, "YAML: nested deeper than %d",
			      YAML_MAX_DEPTH);
	}
	if (type == YAML_SCALAR_EVENT) {
		*out =
		    json_stringn((const char *)first->data.scalar.value, first->data.scalar.length);
		if (!*out)
			ret = errorf(b->err, b->errlen, -EINVAL, "YAML: scalar is not UTF-8");
	}
	yaml_event_delete(first);
	if (type == YAML_SCALAR_EVENT)
		return ret;
	if (type == YAML_MAPPING_START_EVENT)
		return parse_mapping(b, depth, out);
	if (type == YAML_SEQUENCE_START_EVENT)
		return parse_sequence(b, depth, out);
	if (type == YAML_ALIAS_EVENT)
		return errorf(b->err, b->errlen, -EINVAL, "YAML: aliases are not supported");
	return errorf(b->err, b->errlen, -EINVAL, "YAML: unexpected event %d", (int)type);
}

/* Skips stream and document starts to the root node. */
static int parse_root(struct yaml_builder *b, json_t **out)
{
	yaml_event_t ev;
	for (;;) {
		int ret = next_event(b, &ev);
		if (ret)
			return ret;
		yaml_event_type_t type = ev.type;
		if (type == YAML_STREAM_START_EVENT || type == YAML_DOCUMENT_START_EVENT) {
			yaml_event_delete(&ev);
			continue;
		}
		if (type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			*out = json_object(); /* an empty file is an empty config */
			return 0;
		}
		return parse_node(b, &ev, 0, out);
	}
}

int kube_yaml_to_json(const char *text, size_t len, json_t **out, char *err, size_t errlen)
{
	struct yaml_builder b = {.err = err, .errlen = errlen};
	if (!yaml_parser_initialize(&b.parser))
		return errorf(err, errlen, -ENOMEM, "YAML: out of memory");
	yaml_parser_set_input_string(&b.parser, (const unsigned char *)text, len);
	int ret = parse_root(&b, out);
	yaml_parser_delete(&b.parser);
	return ret;
}
