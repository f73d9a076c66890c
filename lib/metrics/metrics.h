/* A small Prometheus registry: counters and gauges with labels, rendered in the text
 * exposition format (version 0.0.4). Thread-safe; meant for tens of series, not thousands. */
#ifndef COIL_METRICS_H
#define COIL_METRICS_H

#include <stddef.h>

enum metric_type { METRIC_COUNTER, METRIC_GAUGE };

struct metrics;

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/* Declares a family; series of undeclared families are refused. Returns 0 or -errno. */
int metrics_declare(struct metrics *m, const char *name, enum metric_type type, const char *help);

/* `labels` is a label set made by metrics_labels() ("" for none), with the labels in a fixed
 * order: the same text names the same series. The series is created at 0. */
int metrics_add(struct metrics *m, const char *name, const char *labels, double delta);
int metrics_set(struct metrics *m, const char *name, const char *labels, double value);
int metrics_delete(struct metrics *m, const char *name, const char *labels);

/* Writes the label set of name/value string pairs ended by NULL into buf, escaping each
 * value as the text format requires (backslash, double quote and newline), e.g.
 *   metrics_labels(buf, sizeof(buf), "grpc_method", "Add", "grpc_code", "OK", NULL)
 * gives grpc_method="Add",grpc_code="OK". A NULL value is "". Returns 0, or -ENAMETOOLONG
 * when it does not fit (buf then holds a truncated set: do not use it). */
int metrics_labels(char *buf, size_t len, ...) __attribute__((sentinel));

/* Adds the standard process_* metrics (CPU time, memory, file descriptors, start time, as
 * Prometheus' Go client names them) to every render of m. */
void metrics_add_process(struct metrics *m);

/* The whole registry as exposition text; malloc'd, caller frees. NULL on ENOMEM. */
char *metrics_render(struct metrics *m);

#endif
