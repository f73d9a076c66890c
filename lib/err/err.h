/* One way to report a failure into a caller's error buffer. */
#ifndef COIL_ERR_H
#define COIL_ERR_H

#include <stdarg.h>
#include <stddef.h>

/* Formats a message into err[0..len) and returns code (a negative errno), so that a failing
 * function reads `return errorf(err, errlen, -EINVAL, "bad CIDR %s", text);`. err may be NULL
 * or len 0 (nothing is written); a long message is cut and always NUL-terminated. */
int errorf(char *err, size_t len, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* errorf with a va_list, for helpers that add their own context around the message. */
int verrorf(char *err, size_t len, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

#endif
