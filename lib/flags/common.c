/* The flags every upstream program takes besides its own: --version, controller-runtime's
 * zap flags and klog's flags, with their defaults and value checks. */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void flags_common_init(struct flags_common *c)
{
	*c = (struct flags_common){
	    .logtostderr = true, .log_file_max_size = 1800, .stderrthreshold = "2"};
}

#define N_COMMON 19

static size_t common_table(struct flags_common *c, struct flag t[N_COMMON])
{
	const struct flag table[N_COMMON] = {
	    {"version", FLAG_BOOL, &c->version, "print the version and exit"},
	    {"zap-devel", FLAG_BOOL, &c->zap_devel,
	     "development defaults (level debug unless --zap-log-level)"},
	    {"zap-encoder", FLAG_STRING, &c->zap_encoder, "log encoding: json or console"},
	    {"zap-log-level", FLAG_STRING, &c->zap_log_level,
	     "log level: debug, info, error, panic or an integer > 0"},
	    {"zap-stacktrace-level", FLAG_STRING, &c->zap_stacktrace_level,
	     "level from which stack traces are taken: info, error or panic"},
	    {"zap-time-encoding", FLAG_STRING, &c->zap_time_encoding,
	     "time encoding: epoch, millis, nano, iso8601, rfc3339 or rfc3339nano"},
	    {"v", FLAG_INT, &c->v, "klog: log level verbosity"},
	    {"logtostderr", FLAG_BOOL, &c->logtostderr, "klog: log to standard error"},
	    {"alsologtostderr", FLAG_BOOL, &c->alsologtostderr, "klog: also to standard error"},
	    {"log_dir", FLAG_STRING, &c->log_dir, "klog: directory of log files"},
	    {"log_file", FLAG_STRING, &c->log_file, "klog: log file"},
	    {"log_file_max_size", FLAG_UINT, &c->log_file_max_size, "klog: log file size in MB"},
	    {"skip_headers", FLAG_BOOL, &c->skip_headers, "klog: no header prefixes"},
	    {"skip_log_headers", FLAG_BOOL, &c->skip_log_headers, "klog: no log file headers"},
	    {"stderrthreshold", FLAG_STRING, &c->stderrthreshold,
	     "klog: severity from which logs go to stderr"},
	    {"vmodule", FLAG_STRING, &c->vmodule, "klog: pattern=N,... per-file verbosity"},
	    {"add_dir_header", FLAG_BOOL, &c->add_dir_header, "klog: file directory in headers"},
	    {"one_output", FLAG_BOOL, &c->one_output, "klog: only the log's own severity file"},
	    {"log_backtrace_at", FLAG_STRING, &c->log_backtrace_at,
	     "klog: file:N where a stack trace is logged"},
	};
	memcpy(t, table, sizeof(table));
	return N_COMMON;
}

static bool one_of(const char *text, const char *const *choices)
{
	for (; *choices; choices++)
		if (strcmp(text, *choices) == 0)
			return true;
	return false;
}

static bool positive_int(const char *text)
{
	char *end;
	long v = strtol(text, &end, 10);
	return end != text && *end == '\0' && v > 0;
}

/* zap's level flags take names or (for the log level) a positive integer. */
static int check_zap(const struct flags_common *c, char *err, size_t errlen)
{
	static const char *const levels[] = {"debug", "info", "error", "panic", NULL};
	static const char *const trace_levels[] = {"info", "error", "panic", NULL};
	static const char *const encoders[] = {"json", "console", NULL};
	static const char *const times[] = {"epoch",   "millis",      "nano", "iso8601",
					    "rfc3339", "rfc3339nano", NULL};
	const char *bad = NULL, *flag = NULL;
	if (c->zap_log_level && !one_of(c->zap_log_level, levels) &&
	    !positive_int(c->zap_log_level))
		bad = c->zap_log_level, flag = "zap-log-level";
	else if (c->zap_stacktrace_level && !one_of(c->zap_stacktrace_level, trace_levels))
		bad = c->zap_stacktrace_level, flag = "zap-stacktrace-level";
	else if (c->zap_encoder && !one_of(c->zap_encoder, encoders))
		bad = c->zap_encoder, flag = "zap-encoder";
	else if (c->zap_time_encoding && !one_of(c->zap_time_encoding, times))
		bad = c->zap_time_encoding, flag = "zap-time-encoding";
	if (!bad)
		return 0;
	snprintf(err, errlen, "invalid argument \"%s\" for \"--%s\" flag", bad, flag);
	return -EINVAL;
}

/* klog's severity: a name (any case) or its number. */
static int check_klog(const struct flags_common *c, char *err, size_t errlen)
{
	static const char *const names[] = {"INFO", "WARNING", "ERROR", "FATAL"};
	const char *t = c->stderrthreshold;
	if (t[0] >= '0' && t[0] <= '3' && t[1] == '\0')
		return 0;
	for (size_t i = 0; i < 4; i++)
		if (strcasecmp(t, names[i]) == 0)
			return 0;
	snprintf(err, errlen, "invalid argument \"%s\" for \"--stderrthreshold\" flag", t);
	return -EINVAL;
}

int flags_parse_program(const struct flag *flags, size_t n, struct flags_common *common, int argc,
			char **argv, const char *usage, char *err, size_t errlen)
{
	struct flag table[N_COMMON];
	size_t ncommon = common_table(common, table);
	int rc =
	    flags_parse_sets_internal(flags, n, table, ncommon, argc, argv, usage, err, errlen);
	if (rc == 0 && !common->version)
		rc = check_zap(common, err, errlen);
	if (rc == 0 && !common->version)
		rc = check_klog(common, err, errlen);
	return rc;
}
