#include "log/log.h"

#include <errno.h>
#include <jansson.h>
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

void log_msg(enum log_level level, const char *msg, ...)
{
	if (level < min_level)
		return;
	json_t *line = json_object();
	json_object_set_new(line, "level", json_string(level_names[level]));
	json_object_set_new(line, "ts", json_real(now_seconds()));
	json_object_set_new(line, "msg", json_string(msg));

	va_list ap;
	va_start(ap, msg);
	for (const char *key = va_arg(ap, const char *); key; key = va_arg(ap, const char *)) {
		const char *value = va_arg(ap, const char *);
		json_object_set_new(line, key, value ? json_string(value) : json_null());
	}
	va_end(ap);

	/* One write per line keeps lines whole when threads log at once. */
	char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(line);
	if (text) {
		fprintf(stderr, "%s\n", text);
		free(text);
	}
}
