#include "err/err.h"

#include <stdio.h>

int verrorf(char *err, size_t len, int code, const char *fmt, va_list ap)
{
	/* vsnprintf, not snprintf: a cut message is intended here, and gcc's
	 * -Wformat-truncation only looks at direct snprintf calls with known sizes. */
	if (err && len > 0)
		vsnprintf(err, len, fmt, ap);
	return code;
}

int errorf(char *err, size_t len, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = verrorf(err, len, code, fmt, ap);
	va_end(ap);
	return rc;
}
