/* Field errors and the Kubernetes API Status they turn into when a
 * validating webhook denies a request (apierrors.NewInvalid). */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Go's %q for a JSON string, compact JSON for anything else; malloc'd or NULL. */
static char *format_value(const json_t *value);

static int add_error(struct field_errors *errs, enum field_error_type type, const char *field,
		     char *value_owned, const char *detail)
{
	if (!value_owned)
		return -ENOMEM;
	if (errs->n == errs->cap) {
		size_t cap = errs->cap ? errs->cap * 2 : 4;
		struct field_error *items = realloc(errs->items, cap * sizeof(*items));
		if (!items) {
			free(value_owned);
			return -ENOMEM;
		}
		errs->items = items;
		errs->cap = cap;
	}
	struct field_error *e = &errs->items[errs->n];
	e->type = type;
	e->field = strdup(field);
	e->value = value_owned;
	e->detail = strdup(detail);
	if (!e->field || !e->detail) {
		free(e->field);
		free(e->value);
		free(e->detail);
		return -ENOMEM;
	}
	errs->n++;
	return 0;
}

int field_errors_add(struct field_errors *errs, enum field_error_type type, const char *field,
		     const char *detail)
{
	return add_error(errs, type, field, strdup("\"\""), detail);
}

int field_errors_add_value(struct field_errors *errs, enum field_error_type type, const char *field,
			   const json_t *value, const char *detail)
{
	return add_error(errs, type, field, format_value(value), detail);
}

void field_errors_free(struct field_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++) {
		free(errs->items[i].field);
		free(errs->items[i].value);
		free(errs->items[i].detail);
	}
	free(errs->items);
	*errs = (struct field_errors){0};
}

/* Writes text quoted like Go's %q (enough for object names: escapes quotes,
 * backslashes and control bytes; other UTF-8 passes through). */
static void write_go_quoted(FILE *out, const char *text)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		case '\r':
			fputs("\\r", out);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(out, "\\x%02x", *p);
			else
				fputc(*p, out);
		}
	}
	fputc('"', out);
}

static char *format_value(const json_t *value)
{
	if (!json_is_string(value))
		return value ? json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("null");
	char *text = NULL;
	size_t len;
	FILE *out = open_memstream(&text, &len);
	if (!out)
		return NULL;
	write_go_quoted(out, json_string_value(value));
	if (fclose(out) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* field.Error.ErrorBody(): `Invalid value: <value>: <detail>`, `Unsupported value: <value>:
 * <detail>` or `Forbidden: <detail>`. */
static void write_error_body(FILE *out, const struct field_error *e)
{
	if (e->type == FIELD_INVALID)
		fprintf(out, "Invalid value: %s", e->value);
	else if (e->type == FIELD_NOT_SUPPORTED)
		fprintf(out, "Unsupported value: %s", e->value);
	else
		fputs("Forbidden", out);
	if (e->detail[0])
		fprintf(out, ": %s", e->detail);
}

static char *error_body(const struct field_error *e)
{
	char *text = NULL;
	size_t len;
	FILE *out = open_memstream(&text, &len);
	if (!out)
		return NULL;
	write_error_body(out, e);
	if (fclose(out) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* `<kind>.coil.cybozu.com "<name>" is invalid: <aggregate>`, where the
 * aggregate is the single error or all of them in [..] joined by ", ". */
static char *status_message(const struct field_errors *errs, const char *kind, const char *name)
{
	char *text = NULL;
	size_t len;
	FILE *out = open_memstream(&text, &len);
	if (!out)
		return NULL;
	fprintf(out, "%s." COILAPI_GROUP " ", kind);
	write_go_quoted(out, name);
	fputs(" is invalid", out);
	if (errs->n > 0)
		fputs(errs->n > 1 ? ": [" : ": ", out);
	for (size_t i = 0; i < errs->n; i++) {
		if (i > 0)
			fputs(", ", out);
		fprintf(out, "%s: ", errs->items[i].field);
		write_error_body(out, &errs->items[i]);
	}
	if (errs->n > 1)
		fputc(']', out);
	if (fclose(out) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

static const char *reason_of(enum field_error_type type)
{
	switch (type) {
	case FIELD_INVALID:
		return "FieldValueInvalid";
	case FIELD_NOT_SUPPORTED:
		return "FieldValueNotSupported";
	default:
		return "FieldValueForbidden";
	}
}

static json_t *status_causes(const struct field_errors *errs)
{
	json_t *causes = json_array();
	for (size_t i = 0; causes && i < errs->n; i++) {
		const struct field_error *e = &errs->items[i];
		char *body = error_body(e);
		json_t *cause = body ? json_pack("{s:s, s:s, s:s}", "reason", reason_of(e->type),
						 "message", body, "field", e->field)
				     : NULL;
		free(body);
		if (json_array_append_new(causes, cause) != 0) {
			json_decref(causes);
			return NULL;
		}
	}
	return causes;
}

json_t *field_errors_status(const struct field_errors *errs, const char *kind, const char *name)
{
	char *message = status_message(errs, kind, name);
	json_t *causes = status_causes(errs);
	json_t *status = NULL;
	if (message && causes)
		status = json_pack("{s:{}, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:O}, s:i}", "metadata",
				   "status", "Failure", "message", message, "reason", "Invalid",
				   "details", "name", name, "group", COILAPI_GROUP, "kind", kind,
				   "causes", causes, "code", 422);
	free(message);
	json_decref(causes);
	return status;
}
