/* Label sets in the Prometheus text format: name="value" pairs, values escaped. */
#include "metrics/metrics.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

/* Appends text at buf+*pos, escaped when escape; false when it does not fit. */
static bool append(char *buf, size_t len, size_t *pos, const char *text, bool escape)
{
	for (const char *p = text; *p; p++) {
		const char *piece = !escape	 ? NULL
				    : *p == '\\' ? "\\\\"
				    : *p == '"'	 ? "\\\""
				    : *p == '\n' ? "\\n"
						 : NULL;
		size_t plen = piece ? strlen(piece) : 1;
		if (*pos + plen >= len)
			return false;
		memcpy(buf + *pos, piece ? piece : p, plen);
		*pos += plen;
	}
	buf[*pos] = '\0';
	return true;
}

int metrics_labels(char *buf, size_t len, ...)
{
	size_t pos = 0;
	bool fits = len > 0;
	va_list ap;
	va_start(ap, len);
	if (fits)
		buf[0] = '\0';
	for (const char *name = va_arg(ap, const char *); fits && name;
	     name = va_arg(ap, const char *)) {
		const char *value = va_arg(ap, const char *);
		fits = (pos == 0 || append(buf, len, &pos, ",", false)) &&
		       append(buf, len, &pos, name, false) &&
		       append(buf, len, &pos, "=\"", false) &&
		       append(buf, len, &pos, value ? value : "", true) &&
		       append(buf, len, &pos, "\"", false);
	}
	va_end(ap);
	return fits ? 0 : -ENAMETOOLONG;
}
