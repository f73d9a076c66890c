/* Scalars: YAML 1.1 implicit typing of plain scalars and the explicit core tags. */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static bool one_of(const char *text, const char *const *list)
{
	for (; *list; list++) {
		if (strcmp(text, *list) == 0)
			return true;
	}
	return false;
}

static const char *const null_words[] = {"", "~", "null", "Null", "NULL", NULL};
/* Booleans as YAML 1.2 has them: YAML 1.1's yes/no/on/off/y/n stay strings, so that a
 * namespace called "no" or "n" keeps its name. */
static const char *const true_words[] = {"true", "True", "TRUE", NULL};
static const char *const false_words[] = {"false", "False", "FALSE", NULL};

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
	int ret = 0;
	for (; *s; s++) {
		if (*s == '_')
			continue;
		unsigned d = digit_value(*s);
		if (d >= base)
			return -EINVAL;
		if (ret == 0 && v > (limit - d) / base)
			ret = -ERANGE; /* keep checking the digits: "9x" is no integer at all */
		v = v * base + d;
		any = true;
	}
	if (!any)
		return -EINVAL;
	*out = v;
	return ret;
}

/* A YAML 1.1 integer: 0, -EINVAL when text is none, -ERANGE when it does not fit. */
static int parse_integer(const char *s, long long *out)
{
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

/* A decimal real ("1.5", "-2e3", "1_000.5"); infinities and NaN have no JSON form and stay
 * strings. */
static bool parse_real(const char *text, double *out)
{
	char buf[64];
	size_t n = 0;
	bool digit = false, mark = false;
	for (const char *p = text; *p; p++) {
		if (*p == '_')
			continue;
		if (n + 1 >= sizeof(buf))
			return false;
		digit |= *p >= '0' && *p <= '9';
		mark |= *p == '.' || *p == 'e' || *p == 'E';
		if (!strchr("0123456789.eE+-", *p))
			return false;
		buf[n++] = *p;
	}
	buf[n] = '\0';
	if (!digit || !mark)
		return false;
	char *end;
	errno = 0;
	*out = strtod(buf, &end);
	return *end == '\0' && errno == 0;
}

static json_t *integer_or_real(const char *text, int r, long long v)
{
	if (r == 0)
		return json_integer((json_int_t)v);
	return json_real(strtod(text, NULL)); /* too large: a real, never a wrapped integer */
}

/* Implicit typing of a plain, untagged scalar. */
static json_t *resolve_plain(const char *text)
{
	long long v;
	double d;
	if (one_of(text, null_words))
		return json_null();
	if (one_of(text, true_words))
		return json_true();
	if (one_of(text, false_words))
		return json_false();
	int r = parse_integer(text, &v);
	if (r != -EINVAL)
		return integer_or_real(text, r, v);
	if (parse_real(text, &d))
		return json_real(d);
	return json_string(text);
}

static bool tag_is(const yaml_event_t *ev, const char *tag)
{
	return ev->data.scalar.tag && strcmp((const char *)ev->data.scalar.tag, tag) == 0;
}

/* A scalar with an explicit core tag. */
static json_t *resolve_tagged(const yaml_event_t *ev, const char *text, const char **why)
{
	long long v;
	double d;
	if (tag_is(ev, YAML_NULL_TAG))
		return json_null();
	if (tag_is(ev, YAML_BOOL_TAG)) {
		if (one_of(text, true_words))
			return json_true();
		if (one_of(text, false_words))
			return json_false();
		*why = "not a boolean";
		return NULL;
	}
	if (tag_is(ev, YAML_INT_TAG)) {
		int r = parse_integer(text, &v);
		if (r != -EINVAL)
			return integer_or_real(text, r, v);
		*why = "not an integer";
		return NULL;
	}
	if (tag_is(ev, YAML_FLOAT_TAG)) {
		if (parse_integer(text, &v) == 0)
			return json_real((double)v);
		if (parse_real(text, &d))
			return json_real(d);
		*why = "not a number";
		return NULL;
	}
	return json_stringn(text, ev->data.scalar.length);
}

json_t *yamljson_scalar(const yaml_event_t *ev, bool typed, const char **why)
{
	const char *text = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	json_t *value;
	*why = "scalar is not UTF-8";
	if (!typed || (!ev->data.scalar.tag && !plain) || strlen(text) != len)
		return json_stringn(text, len); /* text with a NUL byte is never typed */
	if (ev->data.scalar.tag && !tag_is(ev, YAML_DEFAULT_SCALAR_TAG)) {
		value = resolve_tagged(ev, text, why);
	} else if (ev->data.scalar.tag) {
		value = json_stringn(text, len); /* an explicit !!str */
	} else {
		value = resolve_plain(text);
	}
	return value;
}

bool yamljson_plain_is_string(const char *text)
{
	json_t *value = resolve_plain(text);
	bool is_string = json_is_string(value);
	json_decref(value);
	return is_string;
}
