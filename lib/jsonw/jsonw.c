#include "jsonw/jsonw.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INITIAL_CAP 512

void jsonw_init(struct jsonw *w, bool strict)
{
	*w = (struct jsonw){.strict = strict};
}

void jsonw_free(struct jsonw *w)
{
	free(w->buf);
	jsonw_init(w, w->strict);
}

char *jsonw_take(struct jsonw *w, size_t *len)
{
	char *text = w->failed ? NULL : w->buf;
	if (!text)
		free(w->buf);
	else if (len)
		*len = w->len;
	jsonw_init(w, w->strict);
	return text;
}

/* Room for n more bytes and the NUL. */
static bool reserve(struct jsonw *w, size_t n)
{
	if (w->failed)
		return false;
	if (w->len + n + 1 <= w->cap)
		return true;
	size_t cap = w->cap ? w->cap : INITIAL_CAP;
	while (cap < w->len + n + 1)
		cap *= 2;
	char *buf = realloc(w->buf, cap);
	if (!buf) {
		w->failed = true;
		return false;
	}
	w->buf = buf;
	w->cap = cap;
	return true;
}

void jsonw_raw(struct jsonw *w, const char *text, size_t len)
{
	if (!reserve(w, len))
		return;
	memcpy(w->buf + w->len, text, len);
	w->len += len;
	w->buf[w->len] = '\0';
}

/* The length of the valid UTF-8 sequence at s (at most n bytes), or 0: no overlong forms,
 * no surrogates, nothing above U+10FFFF (what jansson accepts). */
static size_t utf8_sequence(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
	if (cp < min[len] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/* The escape of a byte that cannot stand in a JSON string as it is, or NULL. */
static const char *short_escape(unsigned char c)
{
	switch (c) {
	case '"':
		return "\\\"";
	case '\\':
		return "\\\\";
	case '\b':
		return "\\b";
	case '\f':
		return "\\f";
	case '\n':
		return "\\n";
	case '\r':
		return "\\r";
	case '\t':
		return "\\t";
	default:
		return NULL;
	}
}

void jsonw_string(struct jsonw *w, const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	/* Each byte takes at most 6 bytes (\u00XX, or U+FFFD's 3 per invalid byte). */
	if (!reserve(w, len * 6 + 2))
		return;
	char *out = w->buf + w->len;
	*out++ = '"';
	for (size_t i = 0; i < len;) {
		const char *esc = short_escape(s[i]);
		size_t seq = esc ? 1 : utf8_sequence(s + i, len - i);
		if (esc) {
			size_t n = strlen(esc);
			memcpy(out, esc, n);
			out += n;
		} else if (s[i] < 0x20) {
			out += snprintf(out, 7, "\\u%04x", s[i]);
		} else if (seq) {
			memcpy(out, s + i, seq);
			out += seq;
		} else if (w->strict) {
			w->failed = true;
			return;
		} else {
			memcpy(out, "\xef\xbf\xbd", 3); /* U+FFFD */
			out += 3;
			seq = 1;
		}
		i += seq;
	}
	*out++ = '"';
	*out = '\0';
	w->len = (size_t)(out - w->buf);
}

void jsonw_comma(struct jsonw *w)
{
	char last = w->len ? w->buf[w->len - 1] : '{';
	if (last != '{' && last != '[' && last != ':')
		jsonw_raw(w, ",", 1);
}

void jsonw_key(struct jsonw *w, const char *key)
{
	jsonw_comma(w);
	jsonw_string(w, key, strlen(key));
	jsonw_raw(w, ":", 1);
}

void jsonw_member(struct jsonw *w, const char *key, const char *value)
{
	jsonw_key(w, key);
	if (value)
		jsonw_string(w, value, strlen(value));
	else
		jsonw_raw(w, "null", 4);
}
