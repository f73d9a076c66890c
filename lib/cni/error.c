/* CNI error objects and writing one JSON document to stdout. */
#include "cni/cni.h"
#include "fileio/fileio.h"
#include "cni/internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cni_error_set(struct cni_error *err, int code, const char *details, const char *fmt, ...)
{
	if (!err)
		return -EINVAL;
	err->code = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	snprintf(err->details, sizeof(err->details), "%s", details ? details : "");
	return -EINVAL;
}

/* Messages quote outside input (CNI_CONTAINERID, CNI_ARGS) and may be cut by
 * truncation, so they need not be UTF-8; jansson refuses such strings. Then
 * every non-ASCII byte becomes '?', which keeps the error printable. */
json_t *cni_json_string_lossy(const char *text)
{
	json_t *value = json_string(text);
	if (value)
		return value;
	char copy[sizeof(((struct cni_error *)0)->details)];
	size_t i = 0;
	for (; text[i] && i + 1 < sizeof(copy); i++)
		copy[i] = (unsigned char)text[i] < 0x80 ? text[i] : '?';
	copy[i] = '\0';
	return json_string(copy);
}

json_t *cni_error_to_json(const struct cni_error *err, const char *cni_version)
{
	json_t *doc = json_object();
	if (!doc)
		return NULL;
	int rc = json_object_set_new(doc, "cniVersion", json_string(cni_version));
	rc |= json_object_set_new(doc, "code", json_integer(err->code));
	rc |= json_object_set_new(doc, "msg", cni_json_string_lossy(err->msg));
	if (err->details[0])
		rc |= json_object_set_new(doc, "details", cni_json_string_lossy(err->details));
	if (rc) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

int cni_write_json(int fd, const json_t *doc, bool newline)
{
	size_t need = json_dumpb(doc, NULL, 0, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (need == 0)
		return -EINVAL;
	/* Results and errors are small: render on the stack, one write(2). */
	char stack[8192];
	char *buf = need + 1 <= sizeof(stack) ? stack : malloc(need + 1);
	if (!buf)
		return -ENOMEM;
	json_dumpb(doc, buf, need, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (newline)
		buf[need++] = '\n';
	int rc = fd_write_all(fd, buf, need);
	if (buf != stack)
		free(buf);
	return rc;
}
