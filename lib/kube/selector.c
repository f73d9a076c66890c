/* Label selectors in the API server's text syntax, evaluated against an object's labels. The
 * same text is what list and watch requests send, so informers and fakes can filter alike. */
#include "internal.h"

#include <ctype.h>
#include <string.h>

#define SELECTOR_TOKEN_MAX 317 /* a qualified key: 253-char prefix, '/', 63-char name */

struct cursor {
	const char *p;
	const char *start;
};

static void skip_space(struct cursor *c)
{
	while (*c->p == ' ' || *c->p == '\t')
		c->p++;
}

static bool is_word_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '.' || ch == '_' || ch == '-' || ch == '/';
}

/* Reads a key or value word (possibly empty) into buf. */
static int read_word(struct cursor *c, char buf[SELECTOR_TOKEN_MAX + 1])
{
	size_t n = 0;
	skip_space(c);
	while (is_word_char(*c->p)) {
		if (n == SELECTOR_TOKEN_MAX)
			return -EINVAL;
		buf[n++] = *c->p++;
	}
	buf[n] = '\0';
	return 0;
}

/* Is the next word `kw` followed by a non-word character? Consumes it if so. */
static bool accept_keyword(struct cursor *c, const char *kw)
{
	size_t n = strlen(kw);
	skip_space(c);
	if (strncmp(c->p, kw, n) != 0 || is_word_char(c->p[n]))
		return false;
	c->p += n;
	return true;
}

/* Parses "(a, b, c)" and reports whether value is a member. */
static int parse_set(struct cursor *c, const char *value, bool *member, char *err, size_t errlen)
{
	char word[SELECTOR_TOKEN_MAX + 1];
	*member = false;
	skip_space(c);
	if (*c->p != '(')
		return errorf(err, errlen, -EINVAL, "label selector \"%s\": expected '(' at %zu",
			      c->start, (size_t)(c->p - c->start));
	c->p++;
	skip_space(c);
	if (*c->p == ')')
		return errorf(err, errlen, -EINVAL, "label selector \"%s\": empty value set",
			      c->start);
	for (;;) {
		if (read_word(c, word) < 0)
			return errorf(err, errlen, -EINVAL, "label selector \"%s\": value too long",
				      c->start);
		if (value && strcmp(word, value) == 0)
			*member = true;
		skip_space(c);
		if (*c->p == ')') {
			c->p++;
			return 0;
		}
		if (*c->p != ',')
			return errorf(err, errlen, -EINVAL,
				      "label selector \"%s\": expected ',' or ')' at %zu", c->start,
				      (size_t)(c->p - c->start));
		c->p++;
	}
}

/* Parses one requirement and evaluates it against labels. */
static int parse_requirement(struct cursor *c, const json_t *labels, bool *ok, char *err,
			     size_t errlen)
{
	char key[SELECTOR_TOKEN_MAX + 1], value[SELECTOR_TOKEN_MAX + 1];
	skip_space(c);
	bool negated_exists = *c->p == '!';
	if (negated_exists)
		c->p++;
	if (read_word(c, key) < 0 || key[0] == '\0')
		return errorf(err, errlen, -EINVAL, "label selector \"%s\": expected a key at %zu",
			      c->start, (size_t)(c->p - c->start));
	const char *have = json_string_value(json_object_get(labels, key));
	skip_space(c);
	if (negated_exists || *c->p == ',' || *c->p == '\0') {
		*ok = negated_exists ? have == NULL : have != NULL;
		return 0;
	}
	bool member;
	if (accept_keyword(c, "notin")) {
		int ret = parse_set(c, have, &member, err, errlen);
		*ok = !member;
		return ret;
	}
	if (accept_keyword(c, "in")) {
		int ret = parse_set(c, have, &member, err, errlen);
		*ok = member;
		return ret;
	}
	bool not_equal = strncmp(c->p, "!=", 2) == 0;
	if (not_equal || strncmp(c->p, "==", 2) == 0)
		c->p += 2;
	else if (*c->p == '=')
		c->p++;
	else
		return errorf(err, errlen, -EINVAL,
			      "label selector \"%s\": expected an operator at %zu", c->start,
			      (size_t)(c->p - c->start));
	if (read_word(c, value) < 0)
		return errorf(err, errlen, -EINVAL, "label selector \"%s\": value too long",
			      c->start);
	bool equal = have && strcmp(have, value) == 0;
	*ok = not_equal ? !equal : equal;
	return 0;
}

int kube_label_selector_match(const char *selector, const json_t *obj, char *err, size_t errlen)
{
	if (!selector)
		return 1;
	const json_t *labels = kube_json_path(obj, "metadata.labels");
	struct cursor c = {selector, selector};
	bool all = true;
	skip_space(&c);
	if (*c.p == '\0')
		return 1;
	for (;;) {
		bool ok;
		int ret = parse_requirement(&c, labels, &ok, err, errlen);
		if (ret < 0)
			return ret;
		all = all && ok;
		skip_space(&c);
		if (*c.p == '\0')
			return all ? 1 : 0;
		if (*c.p != ',')
			return errorf(err, errlen, -EINVAL,
				      "label selector \"%s\": unexpected '%c' at %zu", selector,
				      *c.p, (size_t)(c.p - selector));
		c.p++;
	}
}
