/* Structured logs: one JSON object per line on stderr, with "level", "ts" and "msg"
 * like upstream's zap output, so the same log pipelines parse both. */
#ifndef COIL_LOG_H
#define COIL_LOG_H

/* LOG_PANIC is only a threshold (nothing logs at it): setting it silences the logger, as
 * zap's panic level silences a Go program that never panics. */
enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_PANIC };

/* Messages below this level are dropped (default LOG_INFO). */
void log_set_level(enum log_level level);

/* Parses "debug", "info", "warn", "error" or "panic"; returns 0 or -EINVAL. */
int log_level_parse(const char *text, enum log_level *out);

/* Writes one line. The variadic part is key/value string pairs ended by NULL:
 *   log_msg(LOG_INFO, "pod added", "container_id", id, "ifname", ifname, NULL);
 * A NULL value is written as JSON null. */
void log_msg(enum log_level level, const char *msg, ...) __attribute__((sentinel));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__, NULL)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__, NULL)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__, NULL)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__, NULL)

#endif
