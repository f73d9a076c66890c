/* Shared inside lib/flags only. */
#ifndef COIL_FLAGS_INTERNAL_H
#define COIL_FLAGS_INTERNAL_H

#include "flags/flags.h"

/* flags_parse over two tables: the program's own first, then the common ones. */
int flags_parse_sets_internal(const struct flag *own, size_t n, const struct flag *common,
			      size_t ncommon, int argc, char **argv, const char *usage, char *err,
			      size_t errlen);

#endif
