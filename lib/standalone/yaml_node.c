#include "standalone/yaml_node.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

static bool tag_is(const yaml_node_t *n, const char *tag)
{
	return n->tag && strcmp((const char *)n->tag, tag) == 0;
}

/* A plain scalar without an explicit tag gets the loader's default str tag;
 * only those are subject to YAML 1.1 implicit typing. */
static bool is_plain_untagged(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       tag_is(n, YAML_DEFAULT_SCALAR_TAG);
}

bool ynode_is_null(const yaml_node_t *n)
{
	if (!n)
		return true;
	if (n->type != YAML_SCALAR_NODE)
		return false;
	if (tag_is(n, YAML_NULL_TAG))
		return true;
	if (!is_plain_untagged(n))
		return false;
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
	const char *text = (const char *)n->data.scalar.value;
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++) {
		if (strcmp(text, nulls[i]) == 0)
			return true;
	}
	return false;
}

static bool scalar_equals(const yaml_node_t *n, const char *text)
{
	size_t len = strlen(text);
	return n && n->type == YAML_SCALAR_NODE && n->data.scalar.length == len &&
	       memcmp(n->data.scalar.value, text, len) == 0;
}

int ymap_get(yaml_document_t *doc, const yaml_node_t *map, const char *key, yaml_node_t **out)
{
	*out = NULL;
	bool found = false;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		if (!scalar_equals(yaml_document_get_node(doc, p->key), key))
			continue;
		if (found)
			return -EINVAL;
		found = true;
		*out = yaml_document_get_node(doc, p->value);
	}
	return 0;
}

int yscalar_text(const yaml_node_t *n, const char **out)
{
	if (!n || n->type != YAML_SCALAR_NODE)
		return -EINVAL;
	const char *text = (const char *)n->data.scalar.value;
	if (strlen(text) != n->data.scalar.length)
		return -EINVAL;
	*out = text;
	return 0;
}

/* The digit's value in base 16, or 16 when c is no hex digit. */
static unsigned digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return (unsigned)(c - '0');
	if (c >= 'a' && c <= 'f')
		return (unsigned)(c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (unsigned)(c - 'A' + 10);
	return 16;
}

/* Splits off the base prefix of an unsigned integer text. */
static const char *integer_base(const char *s, unsigned *base)
{
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		*base = 16;
		return s + 2;
	}
	if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) {
		*base = 8;
		return s + 2;
	}
	if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) {
		*base = 2;
		return s + 2;
	}
	*base = (s[0] == '0' && s[1]) ? 8 : 10;
	return s;
}

/* Magnitude of the digits (underscores skipped), at most limit. */
static int integer_magnitude(const char *s, unsigned base, unsigned long long limit,
			     unsigned long long *out)
{
	unsigned long long v = 0;
	bool any = false;
	for (; *s; s++) {
		if (*s == '_')
			continue;
		unsigned d = digit_value(*s);
		if (d >= base)
			return -EINVAL;
		if (v > (limit - d) / base)
			return -ERANGE;
		v = v * base + d;
		any = true;
	}
	if (!any)
		return -EINVAL;
	*out = v;
	return 0;
}

int yscalar_int(const yaml_node_t *n, long long *out)
{
	const char *s;
	if (yscalar_text(n, &s) < 0)
		return -EINVAL;
	if (!is_plain_untagged(n) && !tag_is(n, YAML_INT_TAG))
		return -EINVAL;
	bool negative = s[0] == '-';
	if (s[0] == '-' || s[0] == '+')
		s++;
	unsigned base;
	s = integer_base(s, &base);
	unsigned long long limit = negative ? (unsigned long long)LLONG_MAX + 1 : LLONG_MAX;
	unsigned long long magnitude;
	int r = integer_magnitude(s, base, limit, &magnitude);
	if (r < 0)
		return r;
	if (negative)
		*out = magnitude == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN
								      : -(long long)magnitude;
	else
		*out = (long long)magnitude;
	return 0;
}
