/* Command-line flags with Go pflag's syntax, so upstream manifests' `args:` work unchanged:
 * `--name=value`, `--name value`, `-name=value`, `-name value`, boolean `--name` /
 * `--name=false`, durations like `5m0s`.
 *
 * flags_parse_program() adds the flags every upstream program takes besides its own:
 * `--version`, controller-runtime's `--zap-*` logging flags and klog's flags (`-v`,
 * `--logtostderr`, ...). Upstream manifests pass some of them (`--zap-stacktrace-level=panic`),
 * so all are accepted with upstream's value syntax; what they change here is documented in
 * struct flags_common. */
#ifndef COIL_FLAGS_H
#define COIL_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum flag_type { FLAG_STRING, FLAG_INT, FLAG_UINT, FLAG_BOOL, FLAG_DURATION };

struct flag {
	const char *name; /* without dashes */
	enum flag_type type;
	void *value; /* const char **, int *, unsigned long long *, bool *, or double * (seconds) */
	const char *help;
};

/* Parses argv[1..] into the table. Positional arguments are an error. Returns 0, 1 when
 * --help/-h was given (usage already printed to stdout), or -EINVAL with a message in err. */
int flags_parse(const struct flag *flags, size_t n, int argc, char **argv, const char *usage,
		char *err, size_t errlen);

/* The common flags. Strings are borrowed from argv. */
struct flags_common {
	bool version; /* --version: print "<program> version <v>" and exit 0 */
	/* controller-runtime's zap flags. Only the level changes our logs (which stay JSON
	 * lines with epoch timestamps, zap's production format); the rest are checked like
	 * upstream checks them. */
	bool zap_devel;		   /* development defaults: level debug unless --zap-log-level */
	const char *zap_encoder;   /* json or console */
	const char *zap_log_level; /* debug, info, error, panic or an integer > 0 (debug) */
	const char *zap_stacktrace_level; /* info, error or panic */
	const char *zap_time_encoding;	  /* epoch, millis, nano, iso8601, rfc3339, rfc3339nano */
	/* klog's flags: upstream's own logs go through zap, so klog only speaks for client
	 * libraries; accepted and type-checked, without effect here. */
	int v;
	bool logtostderr, alsologtostderr, skip_headers, skip_log_headers, add_dir_header,
	    one_output;
	const char *log_dir, *log_file, *stderrthreshold, *vmodule, *log_backtrace_at;
	unsigned long long log_file_max_size;
};

/* Defaults as upstream's (logtostderr true, log_file_max_size 1800, stderrthreshold 2). */
void flags_common_init(struct flags_common *c);

/* flags_parse over the program's own table plus the common flags, then the checks of the
 * common values (-EINVAL with a message like upstream's in err). A program's own flag of the
 * same name wins. */
int flags_parse_program(const struct flag *flags, size_t n, struct flags_common *common, int argc,
			char **argv, const char *usage, char *err, size_t errlen);

/* Go duration text ("1h0m0s", "10s", "250ms", "1.5h") to seconds. Returns 0 or -EINVAL. */
int flags_parse_duration(const char *text, double *seconds);

/* Prints the usage line and one line per flag with its default. */
void flags_print_usage(const struct flag *flags, size_t n, const char *usage);
void flags_print_usage_to(FILE *out, const struct flag *flags, size_t n, const char *usage);

#endif
