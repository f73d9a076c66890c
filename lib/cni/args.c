/* CNI_ARGS ("K1=V1;K2=V2") with the rules of libcni's types.LoadArgs, for
 * coil's key set: IgnoreUnknown plus the three K8S_POD_* keys upstream declares. */
#include "cni/cni.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A bounded text buffer: appends beyond its size are dropped. */
struct text {
	char *buf;
	size_t size, used; /* used < size always */
};

static void append(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void append(struct text *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(t->buf + t->used, t->size - t->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->used = t->used + (size_t)n < t->size ? t->used + (size_t)n : t->size - 1;
}

/* Appends a Go %q rendering of text[0..len). */
static void append_quoted(struct text *t, const char *text, size_t len)
{
	append(t, "\"");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == '"' || c == '\\')
			append(t, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			append(t, "\\x%02x", c);
		else
			append(t, "%c", c);
	}
	append(t, "\"");
}

static int args_fail(struct cni_error *err, const char *detail)
{
	return cni_error_set(err, CNI_ERR_INVALID_ENV, detail, "failed to load CNI_ARGS");
}

static int invalid_pair(struct cni_error *err, const char *pair)
{
	char detail[sizeof(err->details)];
	struct text t = {detail, sizeof(detail), 0};
	detail[0] = '\0';
	append(&t, "ARGS: invalid pair ");
	append_quoted(&t, pair, strlen(pair));
	return args_fail(err, detail);
}

/* UnmarshallableBool: 1/true/0/false, case-insensitively. */
static int parse_ignore_unknown(const char *value, bool *out)
{
	if (strcmp(value, "1") == 0 || strcasecmp(value, "true") == 0)
		*out = true;
	else if (strcmp(value, "0") == 0 || strcasecmp(value, "false") == 0)
		*out = false;
	else
		return -EINVAL;
	return 0;
}

static void append_pair(struct text *t, const char *key, const char *value)
{
	char pair[512];
	snprintf(pair, sizeof(pair), "%s=%s", key, value);
	append_quoted(t, pair, strlen(pair));
}

static int bad_bool(struct cni_error *err, const char *key, const char *value)
{
	char detail[sizeof(err->details)];
	struct text t = {detail, sizeof(detail), 0};
	detail[0] = '\0';
	append(&t, "ARGS: error parsing value of pair ");
	append_pair(&t, key, value);
	/* Go lowercases the input in this message. */
	append(&t, ": boolean unmarshal error: invalid input ");
	for (const char *c = value; *c; c++)
		append(&t, "%c", *c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
	return args_fail(err, detail);
}

/* Stores a known key's value; returns false for an unknown key. */
static bool store_known(struct cni_args *out, const char *key, const char *value)
{
	if (strcmp(key, "K8S_POD_NAMESPACE") == 0)
		out->pod_namespace = value;
	else if (strcmp(key, "K8S_POD_NAME") == 0)
		out->pod_name = value;
	else if (strcmp(key, "K8S_POD_INFRA_CONTAINER_ID") == 0)
		out->pod_infra_container_id = value;
	else
		return false;
	return true;
}

int cni_args_parse(const char *text, struct cni_args *out, struct cni_error *err)
{
	*out = (struct cni_args){"", "", "", "", false, NULL};
	if (!text[0])
		return 0;
	out->storage = strdup(text);
	if (!out->storage)
		return args_fail(err, "out of memory");

	char unknown[sizeof(err->details)];
	struct text list = {unknown, sizeof(unknown), 0};
	unknown[0] = '\0';
	append(&list, "ARGS: unknown args [");
	size_t n_unknown = 0;
	for (char *pair = out->storage, *end; pair; pair = end ? end + 1 : NULL) {
		end = strchr(pair, ';');
		if (end)
			*end = '\0';
		char *eq = strchr(pair, '=');
		if (!eq || strchr(eq + 1, '='))
			return invalid_pair(err, pair);
		*eq = '\0';
		const char *key = pair, *value = eq + 1;
		if (strcmp(key, "IgnoreUnknown") == 0) {
			if (parse_ignore_unknown(value, &out->ignore_unknown) < 0)
				return bad_bool(err, key, value);
		} else if (!store_known(out, key, value)) {
			if (strcmp(key, "K8S_POD_UID") == 0)
				out->pod_uid = value;
			if (n_unknown++)
				append(&list, " ");
			append_pair(&list, key, value);
		}
	}
	if (n_unknown && !out->ignore_unknown) {
		append(&list, "]");
		return args_fail(err, unknown);
	}
	return 0;
}

void cni_args_free(struct cni_args *args)
{
	free(args->storage);
	args->storage = NULL;
}
