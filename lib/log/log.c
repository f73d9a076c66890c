#include "log/log.h"
#include "jsonw/jsonw.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static enum log_level min_level = LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error", "panic"};

void log_set_level(enum log_level level)
{
	min_level = level;
}

int log_level_parse(const char *text, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(text, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The line is written with lib/jsonw, not as a jansson tree: the daemon logs one line per
 * request, and a tree of ten members costs a few dozen allocations where this costs one. A
 * value that is not UTF-8 (a path, a truncated message) keeps its valid parts and shows
 * U+FFFD for each bad byte. */
void log_msg(enum log_level level, const char *msg, ...)
{
	if (level < min_level)
		return;
	struct jsonw w;
	char ts[32];
	jsonw_init(&w, false);
	jsonw_raw(&w, "{", 1);
	jsonw_member(&w, "level", level_names[level]);
	int n = snprintf(ts, sizeof(ts), "%.7f", now_seconds());
	jsonw_key(&w, "ts");
	jsonw_raw(&w, ts, (size_t)n);
	jsonw_member(&w, "msg", msg);

	va_list ap;
	va_start(ap, msg);
	for (const char *key = va_arg(ap, const char *); key; key = va_arg(ap, const char *))
		jsonw_member(&w, key, va_arg(ap, const char *));
	va_end(ap);
	jsonw_raw(&w, "}\n", 2);

	/* One write per line keeps lines whole when threads log at once. */
	size_t len;
	char *text = jsonw_take(&w, &len);
	if (text) {
		fwrite(text, 1, len, stderr);
		free(text);
	}
}
