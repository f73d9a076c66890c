/* Command-line flags with Go pflag's syntax, so upstream manifests' `args:` work unchanged:
 * `--name=value`, `--name value`, boolean `--name` / `--name=false`, durations like `5m0s`.
 * The Go logging stack's `--zap-*` flags and klog's `-v`/`--v` are accepted and ignored
 * (upstream manifests pass `--zap-stacktrace-level=panic`). */
#ifndef COIL_FLAGS_H
#define COIL_FLAGS_H

#include <stdbool.h>
#include <stddef.h>

enum flag_type { FLAG_STRING, FLAG_INT, FLAG_BOOL, FLAG_DURATION };

struct flag {
	const char *name; /* without dashes */
	enum flag_type type;
	void *value; /* const char **, int *, bool *, or double * (seconds) */
	const char *help;
};

/* Parses argv[1..] into the table. Positional arguments are an error. Returns 0, 1 when
 * --help/-h was given (usage already printed to stdout), or -EINVAL with a message in err. */
int flags_parse(const struct flag *flags, size_t n, int argc, char **argv, const char *usage,
		char *err, size_t errlen);

/* Go duration text ("1h0m0s", "10s", "250ms", "1.5h") to seconds. Returns 0 or -EINVAL. */
int flags_parse_duration(const char *text, double *seconds);

/* Prints the usage line and one line per flag with its default. */
void flags_print_usage(const struct flag *flags, size_t n, const char *usage);

#endif
